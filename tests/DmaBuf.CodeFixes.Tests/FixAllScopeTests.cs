// Which provider fixes a rule across a whole solution: hosts such as dotnet format run, for one rule, every provider
// that offers solution-wide Fix All against one analysis, so exactly one provider per rule may offer it (a second one
// would rewrite the same code again), and every rule with a fix has one.
using System;
using System.Linq;
using Microsoft.CodeAnalysis.CodeFixes;

namespace DmaBuf.CodeFixes.Tests;

public class FixAllScopeTests
{
    [Fact]
    public void EveryRuleWithAFixHasExactlyOneSolutionWideProvider()
    {
        var providers = typeof(DmaBufFixer).Assembly.GetTypes()
            .Where(t => !t.IsAbstract && typeof(CodeFixProvider).IsAssignableFrom(t))
            .Select(t => (CodeFixProvider)Activator.CreateInstance(t)!)
            .ToList();
        Assert.NotEmpty(providers);

        foreach (string id in providers.SelectMany(p => p.FixableDiagnosticIds).Distinct().OrderBy(i => i, StringComparer.Ordinal))
        {
            var solutionWide = providers
                .Where(p => p.FixableDiagnosticIds.Contains(id) && p.GetFixAllProvider()?.GetSupportedFixAllScopes().Contains(FixAllScope.Solution) == true)
                .Select(p => p.GetType().Name)
                .ToList();
            Assert.True(solutionWide.Count == 1, $"{id}: solution-wide Fix All offered by {solutionWide.Count} providers ({string.Join(", ", solutionWide)})");
        }
    }
}
