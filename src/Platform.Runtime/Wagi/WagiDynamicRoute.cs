namespace Platform.Runtime;

/// <summary>
/// One line of a module's <c>_routes</c> output (WAGI dynamic routes): a sub-path below the module's own route and the
/// export that serves it. <c>/hello _hello</c> under a module on <c>/greet/...</c> serves <c>/greet/hello</c> with
/// <c>_hello</c>; a sub-path ending in <c>/...</c> is a wildcard.
/// </summary>
public sealed record WagiDynamicRoute(string SubPath, string Entrypoint)
{
    public const string ExportName = "_routes";

    /// <summary>Most lines one module may declare; more is refused rather than matched one by one per request.</summary>
    public const int MaxRoutes = 1000;

    /// <summary>
    /// Parses <c>_routes</c> output as WAGI does: blank lines skipped, every other line exactly two whitespace-separated
    /// fields, the path starting with '/'. Throws <see cref="FormatException"/> quoting the first bad line.
    /// </summary>
    public static IReadOnlyList<WagiDynamicRoute> Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var routes = new List<WagiDynamicRoute>();
        foreach (var raw in text.Split('\n'))
        {
            var line = raw.Trim();
            if (line.Length == 0)
            {
                continue;
            }
            var parts = line.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries);
            if (parts.Length != 2 || !parts[0].StartsWith('/'))
            {
                throw new FormatException($"'{ExportName}' printed the line '{line}'; each line must be '/path entrypoint'");
            }
            if (routes.Count == MaxRoutes)
            {
                throw new FormatException($"'{ExportName}' printed more than {MaxRoutes} routes");
            }
            routes.Add(new WagiDynamicRoute(parts[0], parts[1]));
        }
        return routes;
    }

    /// <summary>The full route: the module's route prefix (<c>/greet</c> for <c>/greet/...</c>) followed by <see cref="SubPath"/>.</summary>
    public string Under(string routePrefix) => (routePrefix.EndsWith('/') ? routePrefix[..^1] : routePrefix) + SubPath;
}
