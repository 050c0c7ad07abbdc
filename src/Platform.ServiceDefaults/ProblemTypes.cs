namespace Platform.ServiceDefaults;

/// <summary>The one base of every problem type URI the control plane and the routers answer with (RFC 9457).</summary>
public static class ProblemTypes
{
    public const string Base = "https://platform.local/problems/";

    /// <summary>The stable type URI of one kind of error, e.g. <c>database-unavailable</c>; clients branch on it.</summary>
    public static string For(string kind) => Base + kind;
}
