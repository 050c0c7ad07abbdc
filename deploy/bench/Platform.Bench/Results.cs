namespace Platform.Bench;

public sealed record MachineInfo(string Cpu, int Cores, long MemoryBytes, string Os, string Kernel, string DotNet, double LoadAverageStart, double LoadAverageEnd);

/// <param name="Unstable">Baselines that moved more than 1.5x between two runs even after measuring again: figures to distrust.</param>
public sealed record ThroughputSection(IReadOnlyList<WrkResult> Runs, IReadOnlyDictionary<string, string> ResponseBodies, IReadOnlyList<string> Unstable)
{
    public WrkResult? Find(string target, int connections) => Runs.FirstOrDefault(r => r.Target == target && r.Connections == connections);
}

/// <summary>One fresh router's first requests (milliseconds, measured by the client, connection set-up included).</summary>
public sealed record ColdStartRun(string Mode, int Repeat, double ReadyMs, double FirstHelloMs, double FirstBigMs, double SecondHelloMs, double SecondBigMs,
    long Compiles, long PrecompiledLoads, double HelloLoadMs, double BigLoadMs, double? HelloFetchMs, double? BigFetchMs);

public sealed record ColdStartSection(IReadOnlyList<ColdStartRun> Runs, long HelloBytes, long BigBytes,
    long? HelloArtifactBytes, long? BigArtifactBytes, double? HelloArtifactTransferMs, double? BigArtifactTransferMs);

/// <summary>One upload: how long the API took to accept it, and how long after that the router answered with it.</summary>
public sealed record DeployRun(int Version, double UploadMs, double LiveAfterAcceptMs, double LiveAfterUploadStartMs);

public sealed record DeploySection(IReadOnlyList<DeployRun> Runs, long ModuleBytes);

public sealed record ManyAppsSection(int Apps, double DeploySeconds, double CallSeconds, long RssBeforeCallsBytes, long RssAfterCallsBytes,
    long PeakRssBytes, long Compiles, long PrecompiledLoads, int MaxCachedModules, int Failures);

/// <summary>One size of the scale section; times in ms, sizes in bytes. "Live" means every router holds the change's revision.</summary>
public sealed record ScaleRun(int Apps, double SeedSeconds, long SnapshotWireBytes, double ReadyFromEmptyMs, double ReadyFromSavedStateMs,
    double RssMedianBytes, long RssMaxBytes, double LiveP50Ms, double LiveP99Ms, double LiveMaxMs, double DeltaBytesMedian, long DeltaBytesMax,
    double ControlPlaneCpuMsPerChange);

public sealed record ScaleSection(int Routers, int Changes, IReadOnlyList<ScaleRun> Runs);

/// <summary>A fresh router's first request for the JS component, loaded from its precompiled artifact; RSS at ready and after it (bytes).</summary>
public sealed record ComponentColdRun(int Repeat, double ReadyMs, double FirstRequestMs, double SecondRequestMs, long Compiles, long PrecompiledLoads,
    double LoadMs, long RssReadyBytes, long RssLoadedBytes);

/// <summary>The JS component: the router and jco serve under wrk in the same run, and fresh routers' first requests.</summary>
public sealed record ComponentSection(long ComponentBytes, double UploadMs, IReadOnlyList<WrkResult> Runs, IReadOnlyList<ComponentColdRun> ColdRuns)
{
    public WrkResult? Find(string target, int connections) => Runs.FirstOrDefault(r => r.Target == target && r.Connections == connections);
}

public sealed record Target(string Name, string Goal, string Measured, bool? Met);

public sealed record BenchReport(
    DateTimeOffset StartedAt, double DurationSeconds, MachineInfo Machine, string Commit, BenchSettingsSummary Settings,
    ThroughputSection? Throughput, ColdStartSection? ColdStart, DeploySection? Deploy, ManyAppsSection? ManyApps, IReadOnlyList<Target> Targets,
    ScaleSection? Scale = null, ComponentSection? Component = null);

public sealed record BenchSettingsSummary(int DurationSeconds, int WarmupSeconds, IReadOnlyList<int> Connections, int ColdStartRepeats, int Deploys, int ManyApps);
