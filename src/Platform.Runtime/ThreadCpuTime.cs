using System.Runtime.InteropServices;

namespace Platform.Runtime;

/// <summary>
/// CPU time consumed by the calling thread (Linux <c>CLOCK_THREAD_CPUTIME_ID</c>). A guest runs on one thread from
/// start to end, so the difference between two readings on that thread is what the guest (and the host functions it
/// called) cost in CPU; time spent sleeping or waiting does not count.
/// </summary>
public static partial class ThreadCpuTime
{
    private const int ClockThreadCpuTimeId = 3;

    /// <summary>False where the clock is not available (not Linux); CPU limits are then not enforced.</summary>
    public static bool IsSupported { get; } = OperatingSystem.IsLinux() && Probe();

    /// <summary>Nanoseconds of CPU the calling thread has used, or 0 when not supported.</summary>
    public static long NowNanoseconds()
    {
        if (!IsSupported)
        {
            return 0;
        }
        return ClockGetTime(ClockThreadCpuTimeId, out var ts) == 0 ? ts.Seconds * 1_000_000_000 + ts.Nanoseconds : 0;
    }

    private static bool Probe()
    {
        try
        {
            return ClockGetTime(ClockThreadCpuTimeId, out _) == 0;
        }
        catch (Exception ex) when (ex is DllNotFoundException or EntryPointNotFoundException)
        {
            return false;
        }
    }

    [StructLayout(LayoutKind.Sequential)]
    private struct TimeSpec
    {
        public long Seconds;
        public long Nanoseconds;
    }

    [LibraryImport("libc", EntryPoint = "clock_gettime")]
    private static partial int ClockGetTime(int clockId, out TimeSpec value);
}
