using System;
using System.Collections.Generic;
using System.Collections.Immutable;
using System.Linq;
using System.Text;
using Microsoft.CodeAnalysis;

namespace DmaBuf.Analyzers.Engine;

/// <summary>A CPU access begun in the body (by <c>BeginCpuAccess</c> or a <c>CpuAccess</c> scope) and possibly still open.</summary>
internal sealed class AccessRecord
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

    public AccessRecord With(ImmutableArray<int>? holders = null, bool? escaped = null) =>
        new(Site, SiteId, Key, Range, IsScope, holders ?? Holders, escaped ?? Escaped);

    public void AppendSignature(StringBuilder builder)
    {
        builder.Append('A').Append(SiteId).Append(':').Append(Escaped ? 'e' : 'o');
        foreach (int holder in Holders)
        {
            builder.Append(',').Append(holder);
        }
    }
}

/// <summary>A page mapped with <c>Kmap</c> or <c>KmapAtomic</c> (or left mapped by a callee) and possibly still held.</summary>
internal sealed class MappingRecord
{
    public MappingRecord(IOperation site, int siteId, int key, Interval? page, string pageText, bool atomic, ImmutableArray<int> holders, bool escaped, string? callee)
    {
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

    /// <summary>The callee that left this mapping held, or null for a kmap in this body.</summary>
    public string? Callee { get; }

    public MappingRecord With(ImmutableArray<int>? holders = null, bool? escaped = null) =>
        new(Site, SiteId, Key, Page, PageText, Atomic, holders ?? Holders, escaped ?? Escaped, Callee);

    public void AppendSignature(StringBuilder builder)
    {
        builder.Append('M').Append(SiteId).Append(':').Append(Escaped ? 'e' : 'o');
        foreach (int holder in Holders)
        {
            builder.Append(',').Append(holder);
        }
    }
}

/// <summary>
/// One path's view at a program point: the accesses open, the mappings held, the last end per buffer, and per buffer
/// whether an access begun elsewhere (by the caller, or by code the buffer was handed to) may be open.
/// </summary>
internal sealed class Config : IEquatable<Config>
{
    public Config(ImmutableArray<AccessRecord> open, ImmutableArray<MappingRecord> held, ImmutableDictionary<int, IOperation> ended, ImmutableDictionary<int, bool> unknown, ImmutableDictionary<int, bool> flags, ImmutableArray<ResourceRecord> resources, ImmutableDictionary<int, IOperation> released)
    {
        Open = open;
        Held = held;
        Ended = ended;
        Unknown = unknown;
        Flags = flags;
        Resources = resources;
        Released = released;

        // Computed here, once: a config is immutable (shared instances such as Empty included).
        Signature = BuildSignature();
    }

    public static Config Empty { get; } = new(ImmutableArray<AccessRecord>.Empty, ImmutableArray<MappingRecord>.Empty, ImmutableDictionary<int, IOperation>.Empty, ImmutableDictionary<int, bool>.Empty, ImmutableDictionary<int, bool>.Empty, ImmutableArray<ResourceRecord>.Empty, ImmutableDictionary<int, IOperation>.Empty);

    public ImmutableArray<AccessRecord> Open { get; }

    public ImmutableArray<MappingRecord> Held { get; }

    /// <summary>The end (or scope disposal) that last ended access on a buffer, per key id.</summary>
    public ImmutableDictionary<int, IOperation> Ended { get; }

    /// <summary>Per key id, whether an access the body cannot see may be open; absent means the key's default.</summary>
    public ImmutableDictionary<int, bool> Unknown { get; }

    /// <summary>The known values of bool locals (by holder id) on this path: <c>begun = true;</c> ... <c>if (begun)</c>.</summary>
    public ImmutableDictionary<int, bool> Flags { get; }

    /// <summary>The buffer references and attachment tables this body took and may still hold.</summary>
    public ImmutableArray<ResourceRecord> Resources { get; }

    /// <summary>Per holder id, the <c>Put</c> that dropped the last reference to the buffer the local held.</summary>
    public ImmutableDictionary<int, IOperation> Released { get; }

    public int AtomicCount => Held.Count(m => m.Atomic);

    public Config WithOpen(ImmutableArray<AccessRecord> open) => new(open, Held, Ended, Unknown, Flags, Resources, Released);

    public Config WithHeld(ImmutableArray<MappingRecord> held) => new(Open, held, Ended, Unknown, Flags, Resources, Released);

    public Config WithEnded(ImmutableDictionary<int, IOperation> ended) => new(Open, Held, ended, Unknown, Flags, Resources, Released);

    public Config WithUnknown(ImmutableDictionary<int, bool> unknown) => new(Open, Held, Ended, unknown, Flags, Resources, Released);

    public Config WithFlags(ImmutableDictionary<int, bool> flags) => new(Open, Held, Ended, Unknown, flags, Resources, Released);

    public Config WithResources(ImmutableArray<ResourceRecord> resources) => new(Open, Held, Ended, Unknown, Flags, resources, Released);

    public Config WithReleased(ImmutableDictionary<int, IOperation> released) => new(Open, Held, Ended, Unknown, Flags, Resources, released);

    /// <summary>The same config with the holders, and the escape, of every access, mapping and resource transformed.</summary>
    public Config WithRecords(Func<AccessRecord, AccessRecord> access, Func<MappingRecord, MappingRecord> mapping, Func<ResourceRecord, ResourceRecord> resource) =>
        new(Open.Select(access).ToImmutableArray(), Held.Select(mapping).ToImmutableArray(), Ended, Unknown, Flags, Resources.Select(resource).ToImmutableArray(), Released);

    public IEnumerable<AccessRecord> OpenOn(int key) => Open.Where(a => a.Key == key);

    /// <summary>A canonical text of the config: two configs are the same path state when their signatures are equal.</summary>
    public string Signature { get; }

    private string BuildSignature()
    {
        var builder = new StringBuilder();
        var parts = new List<string>();
        foreach (AccessRecord access in Open)
        {
            var part = new StringBuilder();
            access.AppendSignature(part);
            parts.Add(part.ToString());
        }

        foreach (MappingRecord mapping in Held)
        {
            var part = new StringBuilder();
            mapping.AppendSignature(part);
            parts.Add(part.ToString());
        }

        foreach (ResourceRecord resource in Resources)
        {
            var part = new StringBuilder();
            resource.AppendSignature(part);
            parts.Add(part.ToString());
        }

        parts.Sort(StringComparer.Ordinal);
        foreach (string part in parts)
        {
            builder.Append(part).Append(';');
        }

        foreach (KeyValuePair<int, IOperation> ended in Ended.OrderBy(p => p.Key))
        {
            builder.Append('E').Append(ended.Key).Append('@').Append(ended.Value.Syntax.SpanStart).Append(';');
        }

        foreach (KeyValuePair<int, bool> unknown in Unknown.OrderBy(p => p.Key))
        {
            builder.Append('U').Append(unknown.Key).Append(unknown.Value ? '+' : '-').Append(';');
        }

        foreach (KeyValuePair<int, bool> flag in Flags.OrderBy(p => p.Key))
        {
            builder.Append('F').Append(flag.Key).Append(flag.Value ? '+' : '-').Append(';');
        }

        foreach (KeyValuePair<int, IOperation> released in Released.OrderBy(p => p.Key))
        {
            builder.Append('P').Append(released.Key).Append('@').Append(released.Value.Syntax.SpanStart).Append(';');
        }

        return builder.ToString();
    }

    public bool Equals(Config? other) => other is not null && Signature == other.Signature;

    public override bool Equals(object? obj) => Equals(obj as Config);

    public override int GetHashCode() => StringComparer.Ordinal.GetHashCode(Signature);
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

    public static FlowState? Of(IEnumerable<Config> configs)
    {
        var set = new HashSet<Config>();
        var list = ImmutableArray.CreateBuilder<Config>();
        foreach (Config config in configs)
        {
            if (set.Add(config))
            {
                if (set.Count > MaxConfigs)
                {
                    return Top;
                }

                list.Add(config);
            }
        }

        return list.Count == 0 ? null : new FlowState(list.ToImmutable(), false);
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

        return Of(a.Configs.Concat(b.Configs));
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

        return mapped is null ? this : Of(mapped);
    }

    public FlowState? Where(Func<Config, bool> predicate) => IsTop ? this : Of(Configs.Where(predicate));

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

        var set = new HashSet<Config>(Configs);
        return other.Configs.All(set.Contains);
    }
}
