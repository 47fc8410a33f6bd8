// The runtime's types and members the analyzers look for, resolved once per compilation; every match is by symbol.
using System.Collections.Immutable;
using Microsoft.CodeAnalysis;

namespace DmaBuf.Analyzers;

/// <summary>
/// The DmaBuf.Runtime types and members the analyzers look for, resolved once per compilation (create it in a
/// compilation start action). Everything is matched by symbol: a type called <c>DmaBuffer</c> in another
/// namespace or assembly is not the runtime's, and a method is the runtime's only if it is this very symbol.
/// Every property is non-null: <see cref="Create"/> returns null instead when the runtime is not referenced or
/// lacks any of them.
/// </summary>
internal sealed class KnownSymbols
{
    /// <summary>The simple name of the runtime assembly whose types these are.</summary>
    public const string RuntimeAssemblyName = "DmaBuf.Runtime";

    private KnownSymbols(Resolver r)
    {
        DmaBuffer = r.DmaBuffer;
        DmaBufExporter = r.Type("DmaBuf.DmaBufExporter");
        DmaBufPage = r.Type("DmaBuf.DmaBufPage");
        CpuAccessScope = r.Type("DmaBuf.CpuAccessScope");
        DmaBufVmap = r.Type("DmaBuf.DmaBufVmap");
        DmaDataDirection = r.Type("DmaBuf.DmaDataDirection");
        MightSleepAttribute = r.Type("DmaBuf.MightSleepAttribute");
        LeavesCpuAccessOpenAttribute = r.Type("DmaBuf.LeavesCpuAccessOpenAttribute");
        ClosesCpuAccessAttribute = r.Type("DmaBuf.ClosesCpuAccessAttribute");
        DmaBufValidation = r.Type("DmaBuf.DmaBufValidation");
        Device = r.Type("DmaBuf.Device");
        DmaBufAttachment = r.Type("DmaBuf.DmaBufAttachment");
        ScatterGatherTable = r.Type("DmaBuf.ScatterGatherTable");
        DmaBufException = r.OptionalType("DmaBuf.DmaBufException");
        ArgumentException = r.FrameworkType("System.ArgumentException");
        ObjectDisposedException = r.FrameworkType("System.ObjectDisposedException");

        BeginCpuAccess = r.Method(DmaBuffer, "BeginCpuAccess", 3);
        EndCpuAccess = r.Method(DmaBuffer, "EndCpuAccess", 3);
        CpuAccess = r.Method(DmaBuffer, "CpuAccess", 3);
        BeginCpuAccessWhole = r.Method(DmaBuffer, "BeginCpuAccess", 1);
        EndCpuAccessWhole = r.Method(DmaBuffer, "EndCpuAccess", 1);
        CpuAccessWhole = r.Method(DmaBuffer, "CpuAccess", 1);
        Vmap = r.Method(DmaBuffer, "Vmap", 0);
        Vunmap = r.Method(DmaBuffer, "Vunmap", 1);
        Kmap = r.Method(DmaBuffer, "Kmap", 1);
        Kunmap = r.Method(DmaBuffer, "Kunmap", 2);
        KmapAtomic = r.Method(DmaBuffer, "KmapAtomic", 1);
        KunmapAtomic = r.Method(DmaBuffer, "KunmapAtomic", 2);
        Put = r.Method(DmaBuffer, "Put", 0);
        Get = r.Method(DmaBuffer, "Get", 1);
        Export = r.Method(DmaBuffer, "Export", 3);
        Fd = r.Method(DmaBuffer, "Fd", 1);
        CloseFd = r.Method(DmaBuffer, "CloseFd", 1);
        Attach = r.Method(DmaBuffer, "Attach", 1);
        Detach = r.Method(DmaBuffer, "Detach", 1);
        MapAttachment = r.Method(DmaBuffer, "MapAttachment", 2);
        UnmapAttachment = r.Method(DmaBuffer, "UnmapAttachment", 2);
        IsReleased = r.OptionalProperty(DmaBuffer, "IsReleased");
        ReferenceCount = r.OptionalProperty(DmaBuffer, "ReferenceCount");

        ExporterKmapAtomic = r.Method(DmaBufExporter, "KmapAtomic", 2);
        ExporterKunmapAtomic = r.Method(DmaBufExporter, "KunmapAtomic", 3);

        DmaBufPageDispose = r.Method(DmaBufPage, "Dispose", 0);
        CpuAccessScopeDispose = r.Method(CpuAccessScope, "Dispose", 0);
        DmaBufVmapDispose = r.Method(DmaBufVmap, "Dispose", 0);
        DmaBufVmapGetSpan = r.Method(DmaBufVmap, "GetSpan", 2);
        ValidationMightSleep = r.Method(DmaBufValidation, "MightSleep", 0);
    }

    /// <summary><c>DmaBuf.DmaBuffer</c>.</summary>
    public INamedTypeSymbol DmaBuffer { get; }

    /// <summary><c>DmaBuf.DmaBufExporter</c>.</summary>
    public INamedTypeSymbol DmaBufExporter { get; }

    /// <summary><c>DmaBuf.DmaBufPage</c>.</summary>
    public INamedTypeSymbol DmaBufPage { get; }

    /// <summary><c>DmaBuf.CpuAccessScope</c>.</summary>
    public INamedTypeSymbol CpuAccessScope { get; }

    /// <summary><c>DmaBuf.DmaBufVmap</c>, the mapping of a whole buffer that <c>Vmap</c> returns.</summary>
    public INamedTypeSymbol DmaBufVmap { get; }

    /// <summary><c>DmaBuf.DmaDataDirection</c>.</summary>
    public INamedTypeSymbol DmaDataDirection { get; }

    /// <summary><c>DmaBuf.MightSleepAttribute</c>.</summary>
    public INamedTypeSymbol MightSleepAttribute { get; }

    /// <summary><c>DmaBuf.LeavesCpuAccessOpenAttribute</c>.</summary>
    public INamedTypeSymbol LeavesCpuAccessOpenAttribute { get; }

    /// <summary><c>DmaBuf.ClosesCpuAccessAttribute</c>.</summary>
    public INamedTypeSymbol ClosesCpuAccessAttribute { get; }

    /// <summary><c>DmaBuf.DmaBufValidation</c>.</summary>
    public INamedTypeSymbol DmaBufValidation { get; }

    /// <summary><c>DmaBuffer.BeginCpuAccess(long, long, DmaDataDirection)</c>.</summary>
    public IMethodSymbol BeginCpuAccess { get; }

    /// <summary><c>DmaBuffer.EndCpuAccess(long, long, DmaDataDirection)</c>.</summary>
    public IMethodSymbol EndCpuAccess { get; }

    /// <summary><c>DmaBuffer.CpuAccess(long, long, DmaDataDirection)</c>, which returns a <see cref="CpuAccessScope"/>.</summary>
    public IMethodSymbol CpuAccess { get; }

    /// <summary><c>DmaBuffer.BeginCpuAccess(DmaDataDirection)</c>: access to the whole buffer.</summary>
    public IMethodSymbol BeginCpuAccessWhole { get; }

    /// <summary><c>DmaBuffer.EndCpuAccess(DmaDataDirection)</c>: ends a whole-buffer access.</summary>
    public IMethodSymbol EndCpuAccessWhole { get; }

    /// <summary><c>DmaBuffer.CpuAccess(DmaDataDirection)</c>, the scope of a whole-buffer access.</summary>
    public IMethodSymbol CpuAccessWhole { get; }

    /// <summary><c>DmaBuffer.Vmap()</c>.</summary>
    public IMethodSymbol Vmap { get; }

    /// <summary><c>DmaBuffer.Vunmap(DmaBufVmap)</c>.</summary>
    public IMethodSymbol Vunmap { get; }

    /// <summary><c>DmaBufVmap.Dispose()</c>, which vunmaps.</summary>
    public IMethodSymbol DmaBufVmapDispose { get; }

    /// <summary><c>DmaBufVmap.GetSpan(long, int)</c>: access to the vmap's bytes.</summary>
    public IMethodSymbol DmaBufVmapGetSpan { get; }

    /// <summary>Whether <paramref name="method"/> begins CPU access, ranged or whole-buffer, explicitly (not a scope).</summary>
    /// <param name="method">A method, possibly null.</param>
    /// <returns>true for either <c>BeginCpuAccess</c>.</returns>
    public bool IsBegin(IMethodSymbol? method) => IsSame(method, BeginCpuAccess) || IsSame(method, BeginCpuAccessWhole);

    /// <summary>Whether <paramref name="method"/> is either <c>EndCpuAccess</c>.</summary>
    /// <param name="method">A method, possibly null.</param>
    /// <returns>true for the ranged and the whole-buffer end.</returns>
    public bool IsEnd(IMethodSymbol? method) => IsSame(method, EndCpuAccess) || IsSame(method, EndCpuAccessWhole);

    /// <summary>Whether <paramref name="method"/> is either <c>CpuAccess</c> (a scope).</summary>
    /// <param name="method">A method, possibly null.</param>
    /// <returns>true for the ranged and the whole-buffer scope.</returns>
    public bool IsScope(IMethodSymbol? method) => IsSame(method, CpuAccess) || IsSame(method, CpuAccessWhole);

    /// <summary><c>DmaBuffer.Kmap(long)</c>.</summary>
    public IMethodSymbol Kmap { get; }

    /// <summary><c>DmaBuffer.Kunmap(long, DmaBufPage)</c>.</summary>
    public IMethodSymbol Kunmap { get; }

    /// <summary><c>DmaBuffer.KmapAtomic(long)</c>.</summary>
    public IMethodSymbol KmapAtomic { get; }

    /// <summary><c>DmaBuffer.KunmapAtomic(long, DmaBufPage)</c>.</summary>
    public IMethodSymbol KunmapAtomic { get; }

    /// <summary><c>DmaBuffer.Put()</c>.</summary>
    public IMethodSymbol Put { get; }

    /// <summary><c>static DmaBuffer.Get(int)</c>.</summary>
    public IMethodSymbol Get { get; }

    /// <summary><c>static DmaBuffer.Export(DmaBufExporter, long, int)</c>.</summary>
    public IMethodSymbol Export { get; }

    /// <summary><c>DmaBuffer.Fd(int)</c>.</summary>
    public IMethodSymbol Fd { get; }

    /// <summary><c>static DmaBuffer.CloseFd(int)</c>.</summary>
    public IMethodSymbol CloseFd { get; }

    /// <summary><c>DmaBuffer.Attach(Device)</c>.</summary>
    public IMethodSymbol Attach { get; }

    /// <summary><c>DmaBuffer.Detach(DmaBufAttachment)</c>.</summary>
    public IMethodSymbol Detach { get; }

    /// <summary><c>DmaBuffer.MapAttachment(DmaBufAttachment, DmaDataDirection)</c>.</summary>
    public IMethodSymbol MapAttachment { get; }

    /// <summary><c>DmaBuffer.UnmapAttachment(DmaBufAttachment, ScatterGatherTable)</c>.</summary>
    public IMethodSymbol UnmapAttachment { get; }

    /// <summary>The exporter callback <c>DmaBufExporter.KmapAtomic(DmaBuffer, long)</c>.</summary>
    public IMethodSymbol ExporterKmapAtomic { get; }

    /// <summary>The exporter callback <c>DmaBufExporter.KunmapAtomic(DmaBuffer, long, nint)</c>.</summary>
    public IMethodSymbol ExporterKunmapAtomic { get; }

    /// <summary><c>DmaBufPage.Dispose()</c>, which unmaps with the matching kunmap.</summary>
    public IMethodSymbol DmaBufPageDispose { get; }

    /// <summary><c>CpuAccessScope.Dispose()</c>, which ends the CPU access.</summary>
    public IMethodSymbol CpuAccessScopeDispose { get; }

    /// <summary><c>DmaBufValidation.MightSleep()</c>, the run-time <c>might_sleep()</c>.</summary>
    public IMethodSymbol ValidationMightSleep { get; }

    /// <summary><c>DmaBuf.Device</c>.</summary>
    public INamedTypeSymbol Device { get; }

    /// <summary><c>DmaBuf.DmaBufAttachment</c>.</summary>
    public INamedTypeSymbol DmaBufAttachment { get; }

    /// <summary><c>DmaBuffer.IsReleased</c>, meant to be read after the last put; null in a runtime without it (not part of the contract).</summary>
    public IPropertySymbol? IsReleased { get; }

    /// <summary><c>DmaBuffer.ReferenceCount</c>, 0 once released; null in a runtime without it (not part of the contract).</summary>
    public IPropertySymbol? ReferenceCount { get; }

    /// <summary><c>DmaBuf.ScatterGatherTable</c>.</summary>
    public INamedTypeSymbol ScatterGatherTable { get; }

    /// <summary><c>DmaBuf.DmaBufException</c>, what a runtime call that fails throws (the exporter's errno).</summary>
    public INamedTypeSymbol? DmaBufException { get; }

    /// <summary><c>System.ArgumentException</c>: what a runtime call given a bad argument (a page past the end) throws.</summary>
    public INamedTypeSymbol? ArgumentException { get; }

    /// <summary><c>System.ObjectDisposedException</c>: what a runtime call on a released buffer throws.</summary>
    public INamedTypeSymbol? ObjectDisposedException { get; }

    /// <summary>
    /// Whether a catch of <paramref name="caught"/> (null: a catch-all) handles a failure of a runtime call: an
    /// exporter's <see cref="DmaBufException"/>, a bad argument (<see cref="ArgumentException"/> and the types derived
    /// from it) or a released buffer (<see cref="ObjectDisposedException"/>).
    /// </summary>
    /// <param name="caught">The type the handler catches.</param>
    /// <returns>true when the handler may catch such a failure.</returns>
    public bool CatchesFailure(ITypeSymbol? caught)
    {
        if (caught is null || caught.SpecialType == SpecialType.System_Object)
        {
            return true;
        }

        return Derives(DmaBufException, caught) || Derives(ObjectDisposedException, caught) || Derives(ArgumentException, caught) || Derives(caught, ArgumentException);
    }

    private static bool Derives(ITypeSymbol? type, ITypeSymbol? baseType)
    {
        for (ITypeSymbol? current = type; current is not null && baseType is not null; current = current.BaseType)
        {
            if (SymbolEqualityComparer.Default.Equals(current, baseType))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>
    /// Whether <paramref name="method"/> is a runtime call that can fail with <see cref="DmaBufException"/> (the exporter
    /// cannot allocate, map or attach), leaving everything as it was.
    /// </summary>
    /// <param name="method">A method.</param>
    /// <returns>true for Export, Get, Fd, Attach, MapAttachment, BeginCpuAccess, CpuAccess (both forms), Kmap, KmapAtomic and Vmap.</returns>
    public bool MayFail(IMethodSymbol method) =>
        SymbolEqualityComparer.Default.Equals(method.ContainingType, DmaBuffer) &&
        (IsSame(method, Export) || IsSame(method, Get) || IsSame(method, Fd) || IsSame(method, Attach) || IsSame(method, MapAttachment) ||
         IsBegin(method) || IsScope(method) || IsSame(method, Kmap) || IsSame(method, KmapAtomic) || IsSame(method, Vmap));

    /// <summary>Whether <paramref name="type"/> is a type of the runtime whose calls the flow rules follow.</summary>
    /// <param name="type">A type, possibly null.</param>
    /// <returns>true for DmaBuffer, DmaBufPage, CpuAccessScope and DmaBufVmap.</returns>
    public bool IsRuntimeType(ITypeSymbol? type) =>
        SymbolEqualityComparer.Default.Equals(type, DmaBuffer) || SymbolEqualityComparer.Default.Equals(type, DmaBufPage) ||
        SymbolEqualityComparer.Default.Equals(type, CpuAccessScope) || SymbolEqualityComparer.Default.Equals(type, DmaBufVmap);

    /// <summary>Whether <paramref name="type"/> is one of the runtime's sharing types, whose methods keep no buffer, attachment or table.</summary>
    /// <param name="type">A type, possibly null.</param>
    /// <returns>true for DmaBuffer, Device, DmaBufAttachment, ScatterGatherTable and DmaBufVmap.</returns>
    public bool IsSharingType(ITypeSymbol? type) =>
        SymbolEqualityComparer.Default.Equals(type, DmaBuffer) || SymbolEqualityComparer.Default.Equals(type, Device) || SymbolEqualityComparer.Default.Equals(type, DmaBufVmap) ||
        SymbolEqualityComparer.Default.Equals(type, DmaBufAttachment) || SymbolEqualityComparer.Default.Equals(type, ScatterGatherTable);

    /// <summary>
    /// Whether the compilation references an assembly named DmaBuf.Runtime: a check of its references' names that
    /// looks up no type (the first type lookup merges the namespaces of every reference, which a compilation that
    /// never uses the runtime should not pay for in an analyzer).
    /// </summary>
    /// <param name="compilation">The compilation.</param>
    /// <returns>true when DmaBuf.Runtime is among its references.</returns>
    public static bool IsReferenced(Compilation compilation)
    {
        foreach (AssemblyIdentity identity in compilation.ReferencedAssemblyNames)
        {
            if (identity.Name == RuntimeAssemblyName)
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>
    /// Resolves the runtime's symbols in <paramref name="compilation"/>, or returns null when the compilation does not
    /// reference DmaBuf.Runtime (no <c>DmaBuf.DmaBuffer</c> from an assembly named DmaBuf.Runtime).
    /// </summary>
    /// <param name="compilation">The compilation.</param>
    /// <returns>The symbols, or null.</returns>
    public static KnownSymbols? Create(Compilation compilation)
    {
        if (compilation is null)
        {
            return null;
        }

        INamedTypeSymbol? dmaBuffer = null;
        foreach (INamedTypeSymbol candidate in compilation.GetTypesByMetadataName("DmaBuf.DmaBuffer"))
        {
            if (IsRuntimeAssembly(candidate.ContainingAssembly))
            {
                if (dmaBuffer is not null)
                {
                    // Two runtimes referenced at once: the analysis cannot tell which one is meant.
                    return null;
                }

                dmaBuffer = candidate;
            }
        }

        if (dmaBuffer is null)
        {
            return null;
        }

        // A runtime that lacks any of these (another version of the contract) is not one the rules understand.
        var resolver = new Resolver(compilation, dmaBuffer);
        var symbols = new KnownSymbols(resolver);
        return resolver.Missing ? null : symbols;
    }

    /// <summary>Whether <paramref name="method"/> is <paramref name="known"/> or a constructed form of it.</summary>
    /// <param name="method">A method, possibly null.</param>
    /// <param name="known">One of this class's methods, possibly null.</param>
    /// <returns>true when both are non-null and the same definition.</returns>
    public static bool IsSame(IMethodSymbol? method, IMethodSymbol? known) =>
        method is not null && known is not null && SymbolEqualityComparer.Default.Equals(method.OriginalDefinition, known.OriginalDefinition);

    /// <summary>
    /// Whether <paramref name="method"/> overrides <paramref name="callback"/>, directly or through intermediate
    /// overrides in between (an exporter that derives from another exporter).
    /// </summary>
    /// <param name="method">The method to test.</param>
    /// <param name="callback">An exporter callback such as <see cref="ExporterKmapAtomic"/>.</param>
    /// <returns>true when <paramref name="method"/> is an override in the chain that ends at <paramref name="callback"/>.</returns>
    public static bool Overrides(IMethodSymbol method, IMethodSymbol? callback)
    {
        if (callback is null || method is null)
        {
            return false;
        }

        for (IMethodSymbol? current = method.OverriddenMethod; current is not null; current = current.OverriddenMethod)
        {
            if (SymbolEqualityComparer.Default.Equals(current.OriginalDefinition, callback.OriginalDefinition))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>Whether <paramref name="symbol"/> carries <see cref="MightSleepAttribute"/> itself.</summary>
    /// <param name="symbol">A method or property.</param>
    /// <returns>true when the attribute is applied to it.</returns>
    public bool HasMightSleep(ISymbol symbol)
    {
        foreach (AttributeData attribute in symbol.GetAttributes())
        {
            if (SymbolEqualityComparer.Default.Equals(attribute.AttributeClass, MightSleepAttribute))
            {
                return true;
            }
        }

        return false;
    }

    private static bool IsRuntimeAssembly(IAssemblySymbol? assembly) =>
        assembly is not null && assembly.Identity.Name == RuntimeAssemblyName;

    /// <summary>Looks the runtime's types and members up, remembering whether any was missing.</summary>
    private sealed class Resolver
    {
        private readonly Compilation _compilation;

        public Resolver(Compilation compilation, INamedTypeSymbol dmaBuffer)
        {
            _compilation = compilation;
            DmaBuffer = dmaBuffer;
        }

        public INamedTypeSymbol DmaBuffer { get; }

        public bool Missing { get; private set; }

        public INamedTypeSymbol Type(string metadataName)
        {
            ImmutableArray<INamedTypeSymbol> candidates = _compilation.GetTypesByMetadataName(metadataName);
            foreach (INamedTypeSymbol candidate in candidates)
            {
                if (SymbolEqualityComparer.Default.Equals(candidate.ContainingAssembly, DmaBuffer.ContainingAssembly))
                {
                    return candidate;
                }
            }

            // The placeholder is never seen: Create discards the whole object when anything is missing.
            Missing = true;
            return null!;
        }

        public IMethodSymbol Method(INamedTypeSymbol type, string name, int parameterCount)
        {
            if (type is null)
            {
                Missing = true;
                return null!;
            }

            foreach (ISymbol member in type.GetMembers(name))
            {
                if (member is IMethodSymbol method && method.MethodKind == MethodKind.Ordinary && method.Parameters.Length == parameterCount)
                {
                    return method;
                }
            }

            Missing = true;
            return null!;
        }

        /// <summary>A type of the framework the rules use when it is there.</summary>
#pragma warning disable RS0030 // This is KnownSymbols: the one place that resolves types, once per compilation.
        public INamedTypeSymbol? FrameworkType(string metadataName) => _compilation.GetTypeByMetadataName(metadataName);
#pragma warning restore RS0030

        /// <summary>A type the rules use when it is there; its absence does not make the runtime unknown.</summary>
        public INamedTypeSymbol? OptionalType(string metadataName)
        {
            foreach (INamedTypeSymbol candidate in _compilation.GetTypesByMetadataName(metadataName))
            {
                if (SymbolEqualityComparer.Default.Equals(candidate.ContainingAssembly, DmaBuffer.ContainingAssembly))
                {
                    return candidate;
                }
            }

            return null;
        }

        /// <summary>A property the rules use when it is there; its absence does not make the runtime unknown.</summary>
        public IPropertySymbol? OptionalProperty(INamedTypeSymbol type, string name)
        {
            if (type is not null)
            {
                foreach (ISymbol member in type.GetMembers(name))
                {
                    if (member is IPropertySymbol property && !property.IsIndexer)
                    {
                        return property;
                    }
                }
            }

            return null;
        }
    }
}
