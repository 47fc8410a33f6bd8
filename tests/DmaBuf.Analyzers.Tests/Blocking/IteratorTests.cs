// A foreach over the compilation's own iterators (methods, properties, GetEnumerator, through an interface) runs their
// blocking bodies; calling without enumerating, ToList, or an iterator that does not block stays silent.
using System.Threading.Tasks;
using Verify = DmaBuf.Analyzers.Tests.AnalyzerVerifier<DmaBuf.Analyzers.Tests.Blocking.BlockingProbeAnalyzer>;

namespace DmaBuf.Analyzers.Tests.Blocking;

/// <summary>
/// A <c>foreach</c> runs the body of the compilation's iterators: a method or property that yields, called in the loop
/// or first stored in a local, a collection whose <c>GetEnumerator</c> yields, an iterator reached through an interface.
/// </summary>
/// <remarks>
/// Deliberately silent, and why: calling an iterator without enumerating it (its body does not run); enumerating it
/// through the base class library (<c>ToList()</c>, LINQ: the analysis does not see into what metadata enumerates); an
/// iterator whose body does not block; a <c>foreach</c> over what a non-iterator returned (its body ran at the call,
/// which is judged there).
/// </remarks>
public sealed class IteratorTests
{
    private const string Usings = """
        using System.Collections;
        using System.Collections.Generic;
        using System.Linq;
        using System.Threading;

        """;

    private const string Sources = """
        interface IPages { IEnumerable<int> Pages(); }

        sealed class SlowPages : IPages
        {
            public IEnumerable<int> Pages()
            {
                {|BLK0001:Thread.Sleep(1)|};
                yield return 1;
            }
        }

        sealed class Book : IEnumerable<int>
        {
            public IEnumerator<int> GetEnumerator()
            {
                {|BLK0001:Thread.Sleep(1)|};
                yield return 1;
            }

            IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();
        }

        static class Source
        {
            public static IEnumerable<int> Slow()
            {
                {|BLK0001:Thread.Sleep(1)|};
                yield break;
            }

            public static IEnumerable<int> Fast()
            {
                yield return 1;
            }

            public static IEnumerable<int> SlowProperty
            {
                get
                {
                    {|BLK0001:Thread.Sleep(1)|};
                    yield return 2;
                }
            }

            public static List<int> Eager() => new List<int> { 1 };
        }

        """;

    [Fact]
    public Task Reported_ForeachOverTheCompilationsIterators() => Verify.VerifyAsync(Usings + Sources + """
        class C
        {
            void M(IPages pages, Book book)
            {
                {|BLK0001:foreach|} (int x in Source.Slow()) { }
                var later = Source.Slow();
                {|BLK0001:foreach|} (int x in later) { }
                {|BLK0001:foreach|} (int x in Source.SlowProperty) { }
                {|BLK0001:foreach|} (int x in book) { }
                {|BLK0001:foreach|} (int x in pages.Pages()) { }
            }
        }
        """);

    [Fact]
    public Task Valid_IteratorsCalledButNotEnumerated_OrThatDoNotBlock() => Verify.VerifyAsync(Usings + Sources + """
        class C
        {
            List<int> M()
            {
                var lazy = Source.Slow();
                var list = lazy.ToList();
                foreach (int x in Source.Fast()) { }
                foreach (int x in Source.Eager()) { }
                return list;
            }
        }
        """);
}
