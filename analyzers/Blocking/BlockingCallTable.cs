// The base class library's blocking calls (sleep, wait, join, synchronous I/O), matched by name on first need; the
// only place the list lives.
using System;
using System.Collections.Generic;
using System.Collections.Concurrent;
using System.Collections.Immutable;
using System.Linq;
using Microsoft.CodeAnalysis;

namespace DmaBuf.Analyzers.Blocking;

/// <summary>
/// The calls of the base class library that may block (sleep, wait, join, synchronous I/O). The table is keyed by
/// type metadata name and member name; a called method is matched by name the first time it is asked about, and never
/// when it is declared in the compilation being analyzed (a look-alike <c>Thread</c> there is not the BCL's). Nothing
/// is resolved up front: looking fifty types up in every reference costs more than a large library's analysis.
/// The same table is documented in <c>docs/rules/blocking-calls.md</c>; keep the two in step.
/// </summary>
/// <remarks>
/// <code>
/// type (metadata name)                                       members                                       note
/// ---------------------------------------------------------- --------------------------------------------- ---------------------------------
/// System.Threading.Thread                                    Sleep, Join                                   Thread.SpinWait and Yield are not blocking
/// System.Threading.Monitor                                   Enter, Wait                                   also what 'lock' lowers to
/// System.Threading.Monitor                                   TryEnter                                      only the overloads with a timeout
/// System.Threading.WaitHandle                                WaitOne, WaitAll, WaitAny, SignalAndWait      Mutex, Semaphore, EventWaitHandle inherit them
/// System.Threading.SemaphoreSlim                             Wait
/// System.Threading.ManualResetEventSlim                      Wait
/// System.Threading.CountdownEvent                            Wait
/// System.Threading.Barrier                                   SignalAndWait
/// System.Threading.ReaderWriterLockSlim                      EnterReadLock, EnterWriteLock, EnterUpgradeableReadLock
/// System.Threading.ReaderWriterLockSlim                      TryEnterReadLock, TryEnterWriteLock,          only the overloads with a timeout
///                                                            TryEnterUpgradeableReadLock
/// System.Threading.Tasks.Task                                Wait, WaitAll, WaitAny, RunSynchronously
/// System.Threading.Tasks.Task`1                              Result (get)
/// System.Threading.Tasks.ValueTask`1                         Result (get)
/// System.Threading.Tasks.Parallel                            For, ForEach, Invoke                          they wait for every iteration
/// System.Runtime.CompilerServices.TaskAwaiter[`1]            GetResult                                     task.GetAwaiter().GetResult()
/// System.Runtime.CompilerServices.ValueTaskAwaiter[`1]       GetResult
/// System.Runtime.CompilerServices.ConfiguredTaskAwaitable[`1]+ConfiguredTaskAwaiter  GetResult
/// System.IO.Stream                                           Read, ReadByte, ReadExactly, ReadAtLeast,     and every override in derived streams of other
///                                                            Write, WriteByte, Flush, CopyTo               assemblies, except on MemoryStream/UnmanagedMemoryStream
/// System.IO.FileStream                                       constructors                                  opening a file
/// System.IO.File                                             ReadAllText, ReadAllBytes, ReadAllLines, ReadLines, WriteAllText, WriteAllBytes,
///                                                            WriteAllLines, AppendAllText, AppendAllLines, AppendText, Open, OpenRead,
///                                                            OpenWrite, OpenText, OpenHandle, Create, CreateText, Copy, Move, Replace, Delete
/// System.IO.TextReader                                       Read, ReadLine, ReadToEnd, ReadBlock, Peek    and overrides, except on StringReader
/// System.IO.TextWriter                                       Write, WriteLine, Flush                       and overrides, except on StringWriter
/// System.Console                                             Read, ReadLine, ReadKey, Write, WriteLine
/// System.Net.Sockets.Socket                                  Send, SendTo, SendFile, Receive, ReceiveFrom, ReceiveMessageFrom,
///                                                            Connect, Accept, Disconnect
/// System.Net.Sockets.TcpClient                               Connect
/// System.Net.Sockets.TcpListener                             AcceptSocket, AcceptTcpClient
/// System.Net.Sockets.UdpClient                               Send, Receive
/// System.Net.Dns                                             GetHostEntry, GetHostAddresses
/// System.Net.Http.HttpClient                                 Send                                          the synchronous one
/// System.Diagnostics.Process                                 WaitForExit, WaitForInputIdle
/// System.Collections.Concurrent.BlockingCollection`1         Take, Add, TakeFromAny, AddToAny
/// System.Collections.Concurrent.BlockingCollection`1         TryTake, TryAdd, TryTakeFromAny, TryAddToAny  only the overloads with a timeout
/// System.Collections.Concurrent.BlockingCollection`1         GetConsumingEnumerable                        blocking when a foreach enumerates it
/// System.GC                                                  WaitForPendingFinalizers
/// </code>
/// An argument of constant <c>0</c> for a <c>millisecondsTimeout</c> parameter, or <c>TimeSpan.Zero</c> for a
/// <c>timeout</c> parameter, makes a call of the table non-blocking (<c>sem.Wait(0)</c> only polls), except for
/// <c>Thread.Sleep</c>: <c>Thread.Sleep(0)</c> still gives up the processor, a schedule point like <c>cond_resched()</c>.
/// The <c>*Async</c> methods are not in the table: they return a task instead of blocking; awaiting it is.
/// The stream, reader and writer members (<see cref="IsReceiverIo"/>) block only on a receiver that is not in memory,
/// and the members that wait for a task (<see cref="IsTaskResult"/>) only on one that has not completed: the summaries
/// decide both from what the receiver is.
/// </remarks>
internal sealed class BlockingCallTable
{
    private static readonly ImmutableArray<Entry> s_entries = ImmutableArray.Create(
        new Entry("System.Threading.Thread", EntryKind.Sleeps, "Sleep"),
        new Entry("System.Threading.Thread", EntryKind.Always, "Join"),
        new Entry("System.Threading.Monitor", EntryKind.Always, "Enter", "Wait"),
        new Entry("System.Threading.Monitor", EntryKind.WithTimeout, "TryEnter"),
        new Entry("System.Threading.WaitHandle", EntryKind.Always, "WaitOne", "WaitAll", "WaitAny", "SignalAndWait"),
        new Entry("System.Threading.SemaphoreSlim", EntryKind.Always, "Wait"),
        new Entry("System.Threading.ManualResetEventSlim", EntryKind.Always, "Wait"),
        new Entry("System.Threading.CountdownEvent", EntryKind.Always, "Wait"),
        new Entry("System.Threading.Barrier", EntryKind.Always, "SignalAndWait"),
        new Entry("System.Threading.ReaderWriterLockSlim", EntryKind.Always, "EnterReadLock", "EnterWriteLock", "EnterUpgradeableReadLock"),
        new Entry("System.Threading.ReaderWriterLockSlim", EntryKind.WithTimeout, "TryEnterReadLock", "TryEnterWriteLock", "TryEnterUpgradeableReadLock"),
        new Entry("System.Threading.Tasks.Task", EntryKind.Always, "Wait", "WaitAll", "WaitAny", "RunSynchronously"),
        new Entry("System.Threading.Tasks.Task`1", EntryKind.Always, "Result"),
        new Entry("System.Threading.Tasks.ValueTask`1", EntryKind.Always, "Result"),
        new Entry("System.Threading.Tasks.Parallel", EntryKind.Always, "For", "ForEach", "Invoke"),
        new Entry("System.Runtime.CompilerServices.TaskAwaiter", EntryKind.Always, "GetResult"),
        new Entry("System.Runtime.CompilerServices.TaskAwaiter`1", EntryKind.Always, "GetResult"),
        new Entry("System.Runtime.CompilerServices.ValueTaskAwaiter", EntryKind.Always, "GetResult"),
        new Entry("System.Runtime.CompilerServices.ValueTaskAwaiter`1", EntryKind.Always, "GetResult"),
        new Entry("System.Runtime.CompilerServices.ConfiguredTaskAwaitable+ConfiguredTaskAwaiter", EntryKind.Always, "GetResult"),
        new Entry("System.Runtime.CompilerServices.ConfiguredTaskAwaitable`1+ConfiguredTaskAwaiter", EntryKind.Always, "GetResult"),
        new Entry("System.IO.Stream", EntryKind.Always, "Read", "ReadByte", "ReadExactly", "ReadAtLeast", "Write", "WriteByte", "Flush", "CopyTo"),
        new Entry("System.IO.FileStream", EntryKind.Always, ".ctor"),
        new Entry(
            "System.IO.File",
            EntryKind.Always,
            "ReadAllText",
            "ReadAllBytes",
            "ReadAllLines",
            "ReadLines",
            "WriteAllText",
            "WriteAllBytes",
            "WriteAllLines",
            "AppendAllText",
            "AppendAllLines",
            "AppendText",
            "Open",
            "OpenRead",
            "OpenWrite",
            "OpenText",
            "OpenHandle",
            "Create",
            "CreateText",
            "Copy",
            "Move",
            "Replace",
            "Delete"),
        new Entry("System.IO.TextReader", EntryKind.Always, "Read", "ReadLine", "ReadToEnd", "ReadBlock", "Peek"),
        new Entry("System.IO.TextWriter", EntryKind.Always, "Write", "WriteLine", "Flush"),
        new Entry("System.Console", EntryKind.Always, "Read", "ReadLine", "ReadKey", "Write", "WriteLine"),
        new Entry("System.Net.Sockets.Socket", EntryKind.Always, "Send", "SendTo", "SendFile", "Receive", "ReceiveFrom", "ReceiveMessageFrom", "Connect", "Accept", "Disconnect"),
        new Entry("System.Net.Sockets.TcpClient", EntryKind.Always, "Connect"),
        new Entry("System.Net.Sockets.TcpListener", EntryKind.Always, "AcceptSocket", "AcceptTcpClient"),
        new Entry("System.Net.Sockets.UdpClient", EntryKind.Always, "Send", "Receive"),
        new Entry("System.Net.Dns", EntryKind.Always, "GetHostEntry", "GetHostAddresses"),
        new Entry("System.Net.Http.HttpClient", EntryKind.Always, "Send"),
        new Entry("System.Diagnostics.Process", EntryKind.Always, "WaitForExit", "WaitForInputIdle"),
        new Entry("System.Collections.Concurrent.BlockingCollection`1", EntryKind.Always, "Take", "Add", "TakeFromAny", "AddToAny"),
        new Entry("System.Collections.Concurrent.BlockingCollection`1", EntryKind.WithTimeout, "TryTake", "TryAdd", "TryTakeFromAny", "TryAddToAny"),
        new Entry("System.Collections.Concurrent.BlockingCollection`1", EntryKind.WhenEnumerated, "GetConsumingEnumerable"),
        new Entry("System.GC", EntryKind.Always, "WaitForPendingFinalizers"));

    /// <summary>Types whose overrides of the table's stream and text members work in memory and never block.</summary>
    private static readonly ImmutableArray<string> s_inMemoryTypes = ImmutableArray.Create(
        "System.IO.MemoryStream",
        "System.IO.UnmanagedMemoryStream",
        "System.IO.StringReader",
        "System.IO.StringWriter");

    /// <summary>The simple names of <see cref="s_inMemoryTypes"/>, the cheap test.</summary>
    private static readonly ImmutableHashSet<string> s_inMemoryNames = s_inMemoryTypes.Select(n => n.Substring(n.LastIndexOf('.') + 1)).ToImmutableHashSet(StringComparer.Ordinal);

    /// <summary>The table's types whose members block only on a receiver that is not in memory.</summary>
    private static readonly ImmutableHashSet<string> s_ioTypes = ImmutableHashSet.Create(StringComparer.Ordinal, "System.IO.Stream", "System.IO.TextReader", "System.IO.TextWriter");

    /// <summary>The table's types whose members wait for a task (its result, or its awaiter's).</summary>
    private static readonly ImmutableHashSet<string> s_taskResultTypes = ImmutableHashSet.Create(
        StringComparer.Ordinal,
        "System.Threading.Tasks.Task`1",
        "System.Threading.Tasks.ValueTask`1",
        "System.Runtime.CompilerServices.TaskAwaiter",
        "System.Runtime.CompilerServices.TaskAwaiter`1",
        "System.Runtime.CompilerServices.ValueTaskAwaiter",
        "System.Runtime.CompilerServices.ValueTaskAwaiter`1",
        "System.Runtime.CompilerServices.ConfiguredTaskAwaitable+ConfiguredTaskAwaiter",
        "System.Runtime.CompilerServices.ConfiguredTaskAwaitable`1+ConfiguredTaskAwaiter");

    /// <summary>The table by type metadata name.</summary>
    private static readonly ImmutableDictionary<string, ImmutableArray<Entry>> s_byType = s_entries
        .GroupBy(e => e.TypeMetadataName, StringComparer.Ordinal)
        .ToImmutableDictionary(g => g.Key, g => g.ToImmutableArray(), StringComparer.Ordinal);

    /// <summary>Every member name of the table: a call of any other name is not looked at further.</summary>
    private static readonly ImmutableHashSet<string> s_memberNames = s_entries.SelectMany(e => e.Members).ToImmutableHashSet(StringComparer.Ordinal);

    private readonly IAssemblySymbol _source;
    private readonly ConcurrentDictionary<IMethodSymbol, Kinds> _kinds = new(SymbolEqualityComparer.Default);

    private BlockingCallTable(IAssemblySymbol source) => _source = source;

    private enum EntryKind
    {
        /// <summary>Every overload blocks.</summary>
        Always,

        /// <summary>Only the overloads with a <c>millisecondsTimeout</c> or <c>TimeSpan</c> timeout parameter block.</summary>
        WithTimeout,

        /// <summary>The call itself returns at once; enumerating what it returns blocks.</summary>
        WhenEnumerated,

        /// <summary>Every overload blocks, even with a zero timeout.</summary>
        Sleeps,
    }

    /// <summary>What the table says of one method definition.</summary>
    [Flags]
    private enum Kinds
    {
        None = 0,
        Blocking = 1,
        WhenEnumerated = 2,
        Sleeps = 4,
        Io = 8,
        TaskResult = 16,
    }

    /// <summary>
    /// The table for <paramref name="compilation"/>. Nothing is looked up here: a called method is matched by its
    /// member name first (most calls stop there), then by its type's metadata name, the first time it is asked about.
    /// </summary>
    /// <param name="compilation">The compilation.</param>
    /// <returns>The table.</returns>
    public static BlockingCallTable Create(Compilation compilation) => new(compilation.Assembly);

    /// <summary>
    /// Whether <paramref name="method"/> (a table member, or an override of one) is stream, reader or writer I/O, which
    /// blocks only when its receiver is not an in-memory stream, reader or writer.
    /// </summary>
    /// <param name="method">The called method, as the original definition.</param>
    /// <returns>true for the I/O members of Stream, TextReader and TextWriter.</returns>
    public bool IsReceiverIo(IMethodSymbol method) => Matches(Kinds.Io, method, receiverType: null, inMemoryExempt: false);

    /// <summary>Whether <paramref name="method"/> waits for a task: <c>Task&lt;T&gt;.Result</c>, <c>ValueTask&lt;T&gt;.Result</c>, an awaiter's <c>GetResult</c>.</summary>
    /// <param name="method">The called method, as the original definition.</param>
    /// <returns>true when it blocks only if the task has not completed.</returns>
    public bool IsTaskResult(IMethodSymbol method) => Matches(Kinds.TaskResult, method, receiverType: null, inMemoryExempt: false);

    /// <summary>Whether objects of <paramref name="type"/> are in-memory streams, readers or writers (MemoryStream, StringReader, StringWriter, and their subclasses in other assemblies).</summary>
    /// <param name="type">A type.</param>
    /// <returns>true for an in-memory type.</returns>
    public bool IsInMemoryType(ITypeSymbol? type) => IsInMemory(type);

    /// <summary>
    /// Whether <paramref name="method"/> (a definition, or an override of one) is in the table, called on a receiver
    /// of static type <paramref name="receiverType"/> (null for a static call).
    /// </summary>
    /// <param name="method">The called method, as the original definition.</param>
    /// <param name="receiverType">The receiver's static type, or null.</param>
    /// <returns>true when the call blocks.</returns>
    public bool IsBlocking(IMethodSymbol method, ITypeSymbol? receiverType) => Matches(Kinds.Blocking, method, receiverType, inMemoryExempt: true);

    /// <summary>Whether a zero timeout makes a call of <paramref name="method"/> only poll (false for <c>Thread.Sleep</c>).</summary>
    /// <param name="method">A method of the table, as the original definition.</param>
    /// <returns>true when a zero timeout does not block.</returns>
    public bool ZeroTimeoutPolls(IMethodSymbol method) => (KindsOf(method.OriginalDefinition) & Kinds.Sleeps) == 0;

    /// <summary>Whether enumerating what <paramref name="method"/> returns blocks (<c>GetConsumingEnumerable</c>).</summary>
    /// <param name="method">The called method, as the original definition.</param>
    /// <returns>true when a foreach over its result blocks.</returns>
    public bool IsBlockingWhenEnumerated(IMethodSymbol method) => Matches(Kinds.WhenEnumerated, method, receiverType: null, inMemoryExempt: true);

    /// <summary>Whether <paramref name="field"/> is <c>TimeSpan.Zero</c>, a timeout that only polls.</summary>
    /// <param name="field">A referenced field.</param>
    /// <returns>true for the BCL's <c>TimeSpan.Zero</c>.</returns>
    public bool IsTimeSpanZero(IFieldSymbol field) => field.Name == "Zero" && IsReferenced(field.ContainingType, "System.TimeSpan");

    /// <summary>Whether <paramref name="parameter"/> is a timeout (<c>int millisecondsTimeout</c> or <c>TimeSpan timeout</c>).</summary>
    /// <param name="parameter">A parameter of a table method.</param>
    /// <returns>true for a timeout parameter.</returns>
    public bool IsTimeoutParameter(IParameterSymbol parameter) =>
        (parameter.Type.SpecialType == SpecialType.System_Int32 && parameter.Name == "millisecondsTimeout") ||
        (parameter.Name == "timeout" && IsReferenced(parameter.Type as INamedTypeSymbol, "System.TimeSpan"));

    private bool Matches(Kinds kind, IMethodSymbol method, ITypeSymbol? receiverType, bool inMemoryExempt)
    {
        bool found = false;
        for (IMethodSymbol? current = method; current is not null; current = current.OverriddenMethod)
        {
            if ((KindsOf(current.OriginalDefinition) & kind) != 0)
            {
                found = true;
                break;
            }
        }

        if (!found)
        {
            return false;
        }

        return !inMemoryExempt || !IsInMemory(receiverType ?? method.ContainingType);
    }

    private Kinds KindsOf(IMethodSymbol definition)
    {
        // The member name is the cheap test; a property's getter goes by its property's name.
        string name = definition.MethodKind == MethodKind.PropertyGet && definition.AssociatedSymbol is { } property ? property.Name : definition.Name;
        if (!s_memberNames.Contains(name))
        {
            return Kinds.None;
        }

        return _kinds.GetOrAdd(definition, d => Classify(d, name));
    }

    private Kinds Classify(IMethodSymbol definition, string name)
    {
        if (definition.ContainingType is not { } type || IsInSource(type) || !s_byType.TryGetValue(MetadataNameOf(type), out ImmutableArray<Entry> entries))
        {
            return Kinds.None;
        }

        bool getter = definition.MethodKind == MethodKind.PropertyGet;
        Kinds kinds = Kinds.None;
        foreach (Entry entry in entries)
        {
            // A setter or an event accessor is not what the table lists, whatever its property's or event's name.
            if (!entry.Members.Contains(name) || (!getter && definition.AssociatedSymbol is not null))
            {
                continue;
            }

            // The stream, reader, writer and task members are what they are, whatever their overload.
            if (s_ioTypes.Contains(entry.TypeMetadataName))
            {
                kinds |= Kinds.Io;
            }
            else if (s_taskResultTypes.Contains(entry.TypeMetadataName))
            {
                kinds |= Kinds.TaskResult;
            }

            if (getter || entry.Kind != EntryKind.WithTimeout || HasTimeoutParameter(definition))
            {
                kinds |= entry.Kind switch
                {
                    EntryKind.WhenEnumerated when !getter => Kinds.WhenEnumerated,
                    EntryKind.Sleeps when !getter => Kinds.Blocking | Kinds.Sleeps,
                    _ => Kinds.Blocking,
                };
            }
        }

        return kinds;
    }

    private bool IsInMemory(ITypeSymbol? type)
    {
        for (ITypeSymbol? current = type; current is not null; current = current.BaseType)
        {
            if (current.OriginalDefinition is INamedTypeSymbol named && s_inMemoryNames.Contains(named.MetadataName) && !IsInSource(named) && s_inMemoryTypes.Contains(MetadataNameOf(named)))
            {
                return true;
            }
        }

        return false;
    }

    private bool HasTimeoutParameter(IMethodSymbol method)
    {
        foreach (IParameterSymbol parameter in method.Parameters)
        {
            if (IsTimeoutParameter(parameter))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>Whether <paramref name="type"/> is the type called <paramref name="metadataName"/> of a referenced assembly.</summary>
    private bool IsReferenced(INamedTypeSymbol? type, string metadataName) =>
        type is not null && metadataName.EndsWith(type.MetadataName, StringComparison.Ordinal) && !IsInSource(type) && MetadataNameOf(type) == metadataName;

    /// <summary>A type declared in the compilation itself is never the BCL's, whatever its name.</summary>
    private bool IsInSource(INamedTypeSymbol type) => SymbolEqualityComparer.Default.Equals(type.ContainingAssembly, _source);

    /// <summary>The type's metadata name as <c>GetTypeByMetadataName</c> takes it (namespace, nesting by <c>+</c>, arity by a backtick).</summary>
    private static string MetadataNameOf(INamedTypeSymbol type)
    {
        if (type.ContainingType is { } outer)
        {
            return MetadataNameOf(outer) + "+" + type.MetadataName;
        }

        INamespaceSymbol? ns = type.ContainingNamespace;
        return ns is null || ns.IsGlobalNamespace ? type.MetadataName : ns.ToDisplayString() + "." + type.MetadataName;
    }

    private sealed class Entry
    {
        public Entry(string typeMetadataName, EntryKind kind, params string[] members)
        {
            TypeMetadataName = typeMetadataName;
            Kind = kind;
            Members = ImmutableArray.Create(members);
        }

        public string TypeMetadataName { get; }

        public EntryKind Kind { get; }

        public ImmutableArray<string> Members { get; }
    }
}
