using System;
using System.Collections.Generic;
using System.Collections.Immutable;
using Microsoft.CodeAnalysis;

namespace DmaBuf.Analyzers.Blocking;

/// <summary>
/// The calls of the base class library that may block (sleep, wait, join, synchronous I/O), resolved to symbols
/// once per compilation. The table is keyed by type metadata name and member name, but every match compares
/// symbols: a look-alike <c>Thread</c> declared in the compilation being analyzed is not the BCL's.
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

    private readonly HashSet<IMethodSymbol> _blocking;
    private readonly HashSet<IMethodSymbol> _io = new(SymbolEqualityComparer.Default);
    private readonly HashSet<IMethodSymbol> _taskResults = new(SymbolEqualityComparer.Default);
    private readonly HashSet<IMethodSymbol> _blockingWhenEnumerated;
    private readonly HashSet<IMethodSymbol> _sleeps;
    private readonly ImmutableArray<INamedTypeSymbol> _inMemoryTypes;
    private readonly INamedTypeSymbol? _timeSpan;

    private BlockingCallTable(HashSet<IMethodSymbol> blocking, HashSet<IMethodSymbol> blockingWhenEnumerated, HashSet<IMethodSymbol> sleeps, ImmutableArray<INamedTypeSymbol> inMemoryTypes, INamedTypeSymbol? timeSpan, IFieldSymbol? timeSpanZero)
    {
        _sleeps = sleeps;
        _timeSpan = timeSpan;
        _blocking = blocking;
        _blockingWhenEnumerated = blockingWhenEnumerated;
        _inMemoryTypes = inMemoryTypes;
        TimeSpanZero = timeSpanZero;
    }

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

    /// <summary><c>TimeSpan.Zero</c>, a timeout that only polls.</summary>
    public IFieldSymbol? TimeSpanZero { get; }

    /// <summary>Resolves the table in <paramref name="compilation"/>; types it does not reference are skipped.</summary>
    /// <param name="compilation">The compilation.</param>
    /// <returns>The resolved table.</returns>
    public static BlockingCallTable Create(Compilation compilation)
    {
        INamedTypeSymbol? timeSpan = null;
        IFieldSymbol? zero = null;
        foreach (INamedTypeSymbol candidate in GetReferencedTypes(compilation, "System.TimeSpan"))
        {
            timeSpan ??= candidate;
            foreach (ISymbol member in candidate.GetMembers("Zero"))
            {
                zero ??= member as IFieldSymbol;
            }
        }

        var blocking = new HashSet<IMethodSymbol>(SymbolEqualityComparer.Default);
        var whenEnumerated = new HashSet<IMethodSymbol>(SymbolEqualityComparer.Default);
        var sleeps = new HashSet<IMethodSymbol>(SymbolEqualityComparer.Default);
        foreach (Entry entry in s_entries)
        {
            foreach (INamedTypeSymbol type in GetReferencedTypes(compilation, entry.TypeMetadataName))
            {
                foreach (string memberName in entry.Members)
                {
                    foreach (ISymbol member in type.GetMembers(memberName))
                    {
                        switch (member)
                        {
                            case IMethodSymbol method when entry.Kind != EntryKind.WithTimeout || HasTimeoutParameter(method, timeSpan):
                                (entry.Kind == EntryKind.WhenEnumerated ? whenEnumerated : blocking).Add(method);
                                if (entry.Kind == EntryKind.Sleeps)
                                {
                                    sleeps.Add(method);
                                }

                                break;
                            case IPropertySymbol { GetMethod: { } getter }:
                                blocking.Add(getter);
                                break;
                        }
                    }
                }
            }
        }

        var inMemory = ImmutableArray.CreateBuilder<INamedTypeSymbol>();
        foreach (string name in s_inMemoryTypes)
        {
            inMemory.AddRange(GetReferencedTypes(compilation, name));
        }

        var table = new BlockingCallTable(blocking, whenEnumerated, sleeps, inMemory.ToImmutable(), timeSpan, zero);
        foreach (Entry entry in s_entries)
        {
            HashSet<IMethodSymbol>? kind = s_ioTypes.Contains(entry.TypeMetadataName) ? table._io : s_taskResultTypes.Contains(entry.TypeMetadataName) ? table._taskResults : null;
            if (kind is null)
            {
                continue;
            }

            foreach (INamedTypeSymbol type in GetReferencedTypes(compilation, entry.TypeMetadataName))
            {
                foreach (string memberName in entry.Members)
                {
                    foreach (ISymbol member in type.GetMembers(memberName))
                    {
                        if ((member as IMethodSymbol ?? (member as IPropertySymbol)?.GetMethod) is { } method)
                        {
                            kind.Add(method);
                        }
                    }
                }
            }
        }

        return table;
    }

    /// <summary>
    /// Whether <paramref name="method"/> (a table member, or an override of one) is stream, reader or writer I/O, which
    /// blocks only when its receiver is not an in-memory stream, reader or writer.
    /// </summary>
    /// <param name="method">The called method, as the original definition.</param>
    /// <returns>true for the I/O members of Stream, TextReader and TextWriter.</returns>
    public bool IsReceiverIo(IMethodSymbol method) => Matches(_io, method, receiverType: null, inMemoryExempt: false);

    /// <summary>Whether <paramref name="method"/> waits for a task: <c>Task&lt;T&gt;.Result</c>, <c>ValueTask&lt;T&gt;.Result</c>, an awaiter's <c>GetResult</c>.</summary>
    /// <param name="method">The called method, as the original definition.</param>
    /// <returns>true when it blocks only if the task has not completed.</returns>
    public bool IsTaskResult(IMethodSymbol method) => Matches(_taskResults, method, receiverType: null, inMemoryExempt: false);

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
    public bool IsBlocking(IMethodSymbol method, ITypeSymbol? receiverType) => Matches(_blocking, method, receiverType, inMemoryExempt: true);

    /// <summary>Whether a zero timeout makes a call of <paramref name="method"/> only poll (false for <c>Thread.Sleep</c>).</summary>
    /// <param name="method">A method of the table, as the original definition.</param>
    /// <returns>true when a zero timeout does not block.</returns>
    public bool ZeroTimeoutPolls(IMethodSymbol method) => !_sleeps.Contains(method.OriginalDefinition);

    /// <summary>Whether enumerating what <paramref name="method"/> returns blocks (<c>GetConsumingEnumerable</c>).</summary>
    /// <param name="method">The called method, as the original definition.</param>
    /// <returns>true when a foreach over its result blocks.</returns>
    public bool IsBlockingWhenEnumerated(IMethodSymbol method) => Matches(_blockingWhenEnumerated, method, receiverType: null, inMemoryExempt: true);

    private bool Matches(HashSet<IMethodSymbol> set, IMethodSymbol method, ITypeSymbol? receiverType, bool inMemoryExempt)
    {
        bool found = false;
        for (IMethodSymbol? current = method; current is not null; current = current.OverriddenMethod)
        {
            if (set.Contains(current.OriginalDefinition))
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

    private bool IsInMemory(ITypeSymbol? type)
    {
        for (ITypeSymbol? current = type; current is not null; current = current.BaseType)
        {
            foreach (INamedTypeSymbol inMemory in _inMemoryTypes)
            {
                if (SymbolEqualityComparer.Default.Equals(current.OriginalDefinition, inMemory))
                {
                    return true;
                }
            }
        }

        return false;
    }

    private static bool HasTimeoutParameter(IMethodSymbol method, INamedTypeSymbol? timeSpan)
    {
        foreach (IParameterSymbol parameter in method.Parameters)
        {
            if (IsTimeoutParameter(parameter, timeSpan))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>Whether <paramref name="parameter"/> is a timeout (<c>int millisecondsTimeout</c> or <c>TimeSpan timeout</c>).</summary>
    /// <param name="parameter">A parameter of a table method.</param>
    /// <returns>true for a timeout parameter.</returns>
    public bool IsTimeoutParameter(IParameterSymbol parameter) => IsTimeoutParameter(parameter, _timeSpan);

    private static bool IsTimeoutParameter(IParameterSymbol parameter, INamedTypeSymbol? timeSpan) =>
        (parameter.Type.SpecialType == SpecialType.System_Int32 && parameter.Name == "millisecondsTimeout") ||
        (timeSpan is not null && SymbolEqualityComparer.Default.Equals(parameter.Type, timeSpan) && parameter.Name == "timeout");

    /// <summary>The types called <paramref name="metadataName"/> in referenced assemblies (never one declared in the compilation itself).</summary>
    private static IEnumerable<INamedTypeSymbol> GetReferencedTypes(Compilation compilation, string metadataName)
    {
        foreach (INamedTypeSymbol type in compilation.GetTypesByMetadataName(metadataName))
        {
            if (!SymbolEqualityComparer.Default.Equals(type.ContainingAssembly, compilation.Assembly))
            {
                yield return type;
            }
        }
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
