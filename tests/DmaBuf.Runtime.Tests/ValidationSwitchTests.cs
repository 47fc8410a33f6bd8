namespace DmaBuf.Runtime.Tests;

public class ValidationSwitchTests
{
    [Fact]
    public void ValidatorIsOnForTheWholeSuite()
    {
        Assert.True(DmaBufValidation.IsEnabled);
    }
}
