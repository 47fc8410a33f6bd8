// The engine's path state: the records of each resource kind, one configuration per set of paths that agree, and the
// bounded join of configurations.
using System;
using System.Collections.Generic;
using System.Collections.Immutable;
using System.Linq;
using Microsoft.CodeAnalysis;

namespace DmaBuf.Analyzers.Engine;

/// <summary>A CPU access begun in the body (by <c>BeginCpuAccess</c> or a <c>CpuAccess</c> scope) and possibly still open.</summary>
internal sealed class AccessRecord : IPathRecord
{
    public AccessRecord(IOperation site, int siteId, int key, AccessRange range, bool isScope, ImmutableArray<int> holders, bool escaped)
    {
        Site = site;
        SiteId = siteId;
        Key = key;
        Range = range;
        IsScope = isScope;
        Holders = holders;
        Escaped = escaped;
    }

    public IOperation Site { get; }

    public int SiteId { get; }

    /// <summary>The buffer's key id, or -1 when the receiver cannot be followed (a scope is still tracked by its holder).</summary>
    public int Key { get; }

    public AccessRange Range { get; }

    public bool IsScope { get; }

    /// <summary>The locals and flow captures that hold the scope.</summary>
    public ImmutableArray<int> Holders { get; }

    /// <summary>Handed to code the analysis cannot see: never reported as left open.</summary>
    public bool Escaped { get; }

    /// <inheritdoc/>
    public int Variant => 0;

    public AccessRecord With(ImmutableArray<int>? holders = null, bool? escaped = null, AccessRange? range = null) =>
        new(Site, SiteId, Key, range ?? Range, IsScope, holders ?? Holders, escaped ?? Escaped);
}

/// <summary>A page mapped with <c>Kmap</c> or <c>KmapAtomic</c> (or left mapped by a callee) and possibly still held.</summary>
internal sealed class MappingRecord : IPathRecord
{
    public MappingRecord(IOperation site, int siteId, int key, Interval? page, string pageText, bool atomic, ImmutableArray<int> holders, bool escaped, string? callee, int pageKey = -1)
    {
        PageKey = pageKey;
        Site = site;
        SiteId = siteId;
        Key = key;
        Page = page;
        PageText = pageText;
        Atomic = atomic;
        Holders = holders;
        Escaped = escaped;
        Callee = callee;
    }

    public IOperation Site { get; }

    public int SiteId { get; }

    public int Key { get; }

    public Interval? Page { get; }

    public string PageText { get; }

    public bool Atomic { get; }

    public ImmutableArray<int> Holders { get; }

    public bool Escaped { get; }

    /// <inheritdoc/>
    public int Variant => 0;

    /// <summary>The callee that left this mapping held, or null for a kmap in this body.</summary>
    public string? Callee { get; }

    /// <summary>The value key of the page number's expression while its operands are unchanged, or -1 (see ValueKeys).</summary>
    public int PageKey { get; }

    public MappingRecord With(ImmutableArray<int>? holders = null, bool? escaped = null, int? pageKey = null) =>
        new(Site, SiteId, Key, Page, PageText, Atomic, holders ?? Holders, escaped ?? Escaped, Callee, pageKey ?? PageKey);
}

/// <summary>What a config's equality looks at of a record it keeps: where it was made, whether it escaped, and who holds it.</summary>
internal interface IPathRecord
{
    int SiteId { get; }

    bool Escaped { get; }

    /// <summary>The holders in order (the order is part of the record's identity).</summary>
    ImmutableArray<int> Holders { get; }

    /// <summary>Any further state that is part of the record's identity; 0 when there is none.</summary>
    int Variant { get; }
}

/// <summary>Equality and hashing of a config's record arrays as multisets of <see cref="IPathRecord"/>, and who holds them.</summary>
internal static class PathRecords
{
    /// <summary>Whether both arrays hold the same records, in any order, each as many times.</summary>
    public static bool SameRecords<T>(ImmutableArray<T> a, ImmutableArray<T> b)
        where T : class, IPathRecord
    {
        if (a.Length != b.Length)
        {
            return false;
        }

        // Usually in the same order: skip the common prefix, then count occurrences in what is left (a few records).
        int start = 0;
        while (start < a.Length && Same(a[start], b[start]))
        {
            start++;
        }

        for (int i = start; i < a.Length; i++)
        {
            if (Occurrences(a, start, a[i]) != Occurrences(b, start, a[i]))
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>A hash that does not depend on the records' order.</summary>
    public static int RecordsHash<T>(ImmutableArray<T> records)
        where T : class, IPathRecord
    {
        int hash = records.Length;
        foreach (T record in records)
        {
            hash = unchecked(hash + Hash(record));
        }

        return hash;
    }

    /// <summary>Whether a record is held by <paramref name="holder"/>.</summary>
    public static bool AnyHeldBy<T>(ImmutableArray<T> records, int holder)
        where T : class, IPathRecord
    {
        foreach (T record in records)
        {
            if (record.Holders.Contains(holder))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>Whether a record is held by one of <paramref name="holders"/>.</summary>
    public static bool AnyHeldBy<T>(ImmutableArray<T> records, ImmutableArray<int> holders)
        where T : class, IPathRecord
    {
        foreach (T record in records)
        {
            if (SharesHolder(record.Holders, holders))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>Whether the two holder lists have a holder in common (without the boxing of <c>holders.Any(others.Contains)</c>).</summary>
    public static bool SharesHolder(ImmutableArray<int> holders, ImmutableArray<int> others)
    {
        foreach (int holder in holders)
        {
            if (others.Contains(holder))
            {
                return true;
            }
        }

        return false;
    }

    private static bool Same(IPathRecord a, IPathRecord b)
    {
        if (a.SiteId != b.SiteId || a.Escaped != b.Escaped || a.Variant != b.Variant || a.Holders.Length != b.Holders.Length)
        {
            return false;
        }

        for (int i = 0; i < a.Holders.Length; i++)
        {
            if (a.Holders[i] != b.Holders[i])
            {
                return false;
            }
        }

        return true;
    }

    private static int Occurrences<T>(ImmutableArray<T> records, int start, T record)
        where T : class, IPathRecord
    {
        int count = 0;
        for (int i = start; i < records.Length; i++)
        {
            count += Same(records[i], record) ? 1 : 0;
        }

        return count;
    }

    private static int Hash(IPathRecord record)
    {
        unchecked
        {
            int hash = (((record.SiteId * 2) + (record.Escaped ? 1 : 0)) * 7) + record.Variant;
            foreach (int holder in record.Holders)
            {
                hash = (hash * 31) + holder;
            }

            return hash;
        }
    }
}

/// <summary>
/// One path's view at a program point: the accesses open, the mappings held, the last end per buffer, and per buffer
/// whether an access begun elsewhere (by the caller, or by code the buffer was handed to) may be open.
/// </summary>
internal sealed class Config : IEquatable<Config>
{
    // Computed on first use (a config is immutable); 0 means not yet computed.
    private int _hash;
    private int _atomicCount = -1;

    public Config(ImmutableArray<AccessRecord> open, ImmutableArray<MappingRecord> held, ImmutableDictionary<int, IOperation> ended, ImmutableDictionary<int, bool> unknown, ImmutableDictionary<int, Fact> facts, ImmutableArray<ResourceRecord> resources, ImmutableDictionary<int, IOperation> released)
    {
        Open = open;
        Held = held;
        Ended = ended;
        Unknown = unknown;
        Facts = facts;
        Resources = resources;
        Released = released;
    }

    public static Config Empty { get; } = new(ImmutableArray<AccessRecord>.Empty, ImmutableArray<MappingRecord>.Empty, ImmutableDictionary<int, IOperation>.Empty, ImmutableDictionary<int, bool>.Empty, ImmutableDictionary<int, Fact>.Empty, ImmutableArray<ResourceRecord>.Empty, ImmutableDictionary<int, IOperation>.Empty);

    public ImmutableArray<AccessRecord> Open { get; }

    public ImmutableArray<MappingRecord> Held { get; }

    /// <summary>The end (or scope disposal) that last ended access on a buffer, per key id.</summary>
    public ImmutableDictionary<int, IOperation> Ended { get; }

    /// <summary>Per key id, whether an access the body cannot see may be open; absent means the key's default.</summary>
    public ImmutableDictionary<int, bool> Unknown { get; }

    /// <summary>What this path knows of the values the body tests, per value key (see <see cref="PathFacts"/>).</summary>
    public ImmutableDictionary<int, Fact> Facts { get; }

    /// <summary>The buffer references and attachment tables this body took and may still hold.</summary>
    public ImmutableArray<ResourceRecord> Resources { get; }

    /// <summary>Per holder id, the <c>Put</c> that dropped the last reference to the buffer the local held.</summary>
    public ImmutableDictionary<int, IOperation> Released { get; }

    /// <summary>How many of the held mappings are atomic.</summary>
    public int AtomicCount
    {
        get
        {
            if (_atomicCount < 0)
            {
                int count = 0;
                foreach (MappingRecord mapping in Held)
                {
                    count += mapping.Atomic ? 1 : 0;
                }

                _atomicCount = count;
            }

            return _atomicCount;
        }
    }

    public Config WithOpen(ImmutableArray<AccessRecord> open) => new(open, Held, Ended, Unknown, Facts, Resources, Released);

    public Config WithHeld(ImmutableArray<MappingRecord> held) => new(Open, held, Ended, Unknown, Facts, Resources, Released);

    public Config WithEnded(ImmutableDictionary<int, IOperation> ended) => new(Open, Held, ended, Unknown, Facts, Resources, Released);

    public Config WithUnknown(ImmutableDictionary<int, bool> unknown) => new(Open, Held, Ended, unknown, Facts, Resources, Released);

    public Config WithFacts(ImmutableDictionary<int, Fact> facts) => new(Open, Held, Ended, Unknown, facts, Resources, Released);

    public Config WithResources(ImmutableArray<ResourceRecord> resources) => new(Open, Held, Ended, Unknown, Facts, resources, Released);

    public Config WithReleased(ImmutableDictionary<int, IOperation> released) => new(Open, Held, Ended, Unknown, Facts, Resources, released);

    /// <summary>The same config with the holders, and the escape, of every access, mapping and resource transformed.</summary>
    public Config WithRecords(Func<AccessRecord, AccessRecord> access, Func<MappingRecord, MappingRecord> mapping, Func<ResourceRecord, ResourceRecord> resource) =>
        new(Open.Select(access).ToImmutableArray(), Held.Select(mapping).ToImmutableArray(), Ended, Unknown, Facts, Resources.Select(resource).ToImmutableArray(), Released);

    public IEnumerable<AccessRecord> OpenOn(int key) => Open.Where(a => a.Key == key);

    /// <summary>
    /// Two configs are the same path state when they have the same open accesses and held mappings (each compared by
    /// <see cref="IPathRecord">site, escape and holders</see>, in any order, duplicates counted), the same end per
    /// buffer (compared by where it is), the same unknown-access and flag values, the same buffer references and tables
    /// held, and the same last put per holder. To add a component, compare it
    /// here and hash it in <see cref="ComputeHash"/>.
    /// </summary>
    public bool Equals(Config? other) =>
        other is not null &&
        (ReferenceEquals(this, other) ||
         (GetHashCode() == other.GetHashCode() &&
          PathRecords.SameRecords(Open, other.Open) &&
          PathRecords.SameRecords(Held, other.Held) &&
          SameEntries(Ended, other.Ended, SamePlace) &&
          SameEntries(Unknown, other.Unknown, SameValue) &&
          SameEntries(Facts, other.Facts, SameFact) &&
          PathRecords.SameRecords(Resources, other.Resources) &&
          SameEntries(Released, other.Released, SamePlace)));

    public override bool Equals(object? obj) => Equals(obj as Config);

    /// <summary>Whether both configs agree on everything but what they know of values (their <see cref="Facts"/>).</summary>
    public bool SameResources(Config other) =>
        PathRecords.SameRecords(Open, other.Open) &&
        PathRecords.SameRecords(Held, other.Held) &&
        SameEntries(Ended, other.Ended, SamePlace) &&
        SameEntries(Unknown, other.Unknown, SameValue) &&
        PathRecords.SameRecords(Resources, other.Resources) &&
        SameEntries(Released, other.Released, SamePlace);

    /// <summary>This config with only what both configs know of values (the merge of two paths with the same resources).</summary>
    public Config JoinFacts(Config other)
    {
        ImmutableDictionary<int, Fact> facts = ImmutableDictionary<int, Fact>.Empty;
        foreach (KeyValuePair<int, Fact> entry in Facts)
        {
            if (other.Facts.TryGetValue(entry.Key, out Fact theirs) && entry.Value.Join(theirs) is { IsUnknown: false } joined)
            {
                facts = facts.Add(entry.Key, joined);
            }
        }

        return WithFacts(facts);
    }

    public override int GetHashCode()
    {
        if (_hash == 0)
        {
            int hash = ComputeHash();
            _hash = hash == 0 ? 1 : hash;
        }

        return _hash;
    }

    private int ComputeHash()
    {
        unchecked
        {
            int hash = PathRecords.RecordsHash(Open);
            hash = (hash * 31) + PathRecords.RecordsHash(Held);
            hash = (hash * 31) + EntriesHash(Ended, PlaceHash);
            hash = (hash * 31) + EntriesHash(Unknown, ValueHash);
            hash = (hash * 31) + EntriesHash(Facts, FactHash);
            hash = (hash * 31) + PathRecords.RecordsHash(Resources);
            hash = (hash * 31) + EntriesHash(Released, PlaceHash);
            return hash;
        }
    }

    /// <summary>A buffer's end is the same when it is at the same place (not necessarily the same operation).</summary>
    private static bool SamePlace(IOperation a, IOperation b) => a.Syntax.SpanStart == b.Syntax.SpanStart;

    private static int PlaceHash(IOperation operation) => operation.Syntax.SpanStart;

    private static bool SameValue(bool a, bool b) => a == b;

    private static int ValueHash(bool value) => value ? 1 : 0;

    private static bool SameFact(Fact a, Fact b) => a.Equals(b);

    private static int FactHash(Fact fact) => fact.GetHashCode();

    /// <summary>Whether both dictionaries have the same keys, with the same values by <paramref name="same"/>.</summary>
    private static bool SameEntries<TValue>(ImmutableDictionary<int, TValue> a, ImmutableDictionary<int, TValue> b, Func<TValue, TValue, bool> same)
    {
        if (ReferenceEquals(a, b))
        {
            return true;
        }

        if (a.Count != b.Count)
        {
            return false;
        }

        foreach (KeyValuePair<int, TValue> entry in a)
        {
            if (!b.TryGetValue(entry.Key, out TValue? value) || !same(entry.Value, value!))
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>A hash of the entries that does not depend on the order the dictionary enumerates them in (a sum).</summary>
    private static int EntriesHash<TValue>(ImmutableDictionary<int, TValue> entries, Func<TValue, int> hash)
    {
        int sum = entries.Count;
        foreach (KeyValuePair<int, TValue> entry in entries)
        {
            sum = unchecked(sum + ((entry.Key * 397) ^ hash(entry.Value)));
        }

        return sum;
    }
}

/// <summary>
/// The abstract state at a program point: the set of path configurations that may reach it (a disjunction), or
/// <see cref="IsTop"/> when there were too many to keep apart (the rules are then silent).
/// </summary>
internal sealed class FlowState
{
    public const int MaxConfigs = 48;

    private FlowState(ImmutableArray<Config> configs, bool isTop)
    {
        Configs = configs;
        IsTop = isTop;
    }

    public static FlowState Top { get; } = new(ImmutableArray<Config>.Empty, true);

    public static FlowState Initial { get; } = new(ImmutableArray.Create(Config.Empty), false);

    public ImmutableArray<Config> Configs { get; }

    public bool IsTop { get; }

    /// <summary>
    /// The state of the distinct configurations, in their first order; null for none, <see cref="Top"/> for too many.
    /// There are at most <see cref="MaxConfigs"/>, and a config compares its cached hash first, so a linear search
    /// costs less than a hash set allocated per state.
    /// </summary>
    public static FlowState? Of(IEnumerable<Config> configs)
    {
        var list = ImmutableArray.CreateBuilder<Config>(configs is ICollection<Config> collection ? Math.Min(collection.Count, MaxConfigs) : 4);
        foreach (Config config in configs)
        {
            if (!list.Contains(config))
            {
                if (list.Count == MaxConfigs)
                {
                    // The bound on path explosion: past MaxConfigs, paths that agree on every resource merge (keeping only
                    // what both know of values); when they differ in resources too, the state is Top and the rules are silent.
                    int same = IndexOfSameResources(list, config);
                    if (same < 0)
                    {
                        return Top;
                    }

                    list[same] = list[same].JoinFacts(config);
                    continue;
                }

                list.Add(config);
            }
        }

        if (list.Count == 0)
        {
            return null;
        }

        return new FlowState(list.Count == list.Capacity ? list.MoveToImmutable() : list.ToImmutable(), false);
    }

    private static int IndexOfSameResources(ImmutableArray<Config>.Builder list, Config config)
    {
        for (int i = 0; i < list.Count; i++)
        {
            if (list[i].SameResources(config))
            {
                return i;
            }
        }

        return -1;
    }

    private static bool Includes(FlowState a, FlowState b)
    {
        foreach (Config config in b.Configs)
        {
            if (!a.Configs.Contains(config))
            {
                return false;
            }
        }

        return true;
    }

    public static FlowState? Join(FlowState? a, FlowState? b)
    {
        if (a is null)
        {
            return b;
        }

        if (b is null)
        {
            return a;
        }

        if (a.IsTop || b.IsTop)
        {
            return Top;
        }

        // Usually one side already has all of the other's configurations (a block reached again with what it had).
        if (Includes(a, b))
        {
            return a;
        }

        var all = new Config[a.Configs.Length + b.Configs.Length];
        a.Configs.CopyTo(all, 0);
        b.Configs.CopyTo(all, a.Configs.Length);
        return Of(all);
    }

    /// <summary>
    /// The state with every configuration transformed. Most transforms leave most configurations as they are (for
    /// example clearing pending holders after a statement), so when every configuration comes back unchanged the
    /// state itself is returned, without re-hashing and de-duplicating its configurations.
    /// </summary>
    public FlowState? Map(Func<Config, Config> transform)
    {
        if (IsTop)
        {
            return this;
        }

        Config[]? mapped = null;
        for (int i = 0; i < Configs.Length; i++)
        {
            Config result = transform(Configs[i]);
            if (mapped is null)
            {
                if (ReferenceEquals(result, Configs[i]))
                {
                    continue;
                }

                mapped = new Config[Configs.Length];
                Configs.CopyTo(0, mapped, 0, i);
            }

            mapped[i] = result;
        }

        if (mapped is null)
        {
            return this;
        }

        // One configuration has nothing to be told apart from.
        return mapped.Length == 1 ? new FlowState(ImmutableArray.Create(mapped[0]), false) : Of(mapped);
    }

    /// <summary>The state of the configurations that satisfy <paramref name="predicate"/> (this one when all do), or null for none.</summary>
    public FlowState? Where(Func<Config, bool> predicate)
    {
        if (IsTop)
        {
            return this;
        }

        ImmutableArray<Config>.Builder? kept = null;
        for (int i = 0; i < Configs.Length; i++)
        {
            bool keep = predicate(Configs[i]);
            if (kept is null)
            {
                if (keep)
                {
                    continue;
                }

                kept = ImmutableArray.CreateBuilder<Config>(Configs.Length);
                for (int j = 0; j < i; j++)
                {
                    kept.Add(Configs[j]);
                }
            }
            else if (keep)
            {
                kept.Add(Configs[i]);
            }
        }

        // Part of a set of distinct configurations is one too.
        return kept is null ? this : kept.Count == 0 ? null : new FlowState(kept.ToImmutable(), false);
    }

    public bool SameAs(FlowState? other)
    {
        if (other is null)
        {
            return false;
        }

        if (IsTop || other.IsTop)
        {
            return IsTop == other.IsTop;
        }

        if (Configs.Length != other.Configs.Length)
        {
            return false;
        }

        // Both are free of duplicates: the same length and every one of other's in this one is the same set.
        foreach (Config config in other.Configs)
        {
            if (!Configs.Contains(config))
            {
                return false;
            }
        }

        return true;
    }
}
