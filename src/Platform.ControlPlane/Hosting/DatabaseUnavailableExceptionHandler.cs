using System.Net.Sockets;
using Microsoft.AspNetCore.Diagnostics;
using Microsoft.AspNetCore.Mvc;
using Npgsql;
using Platform.ServiceDefaults;

namespace Platform.ControlPlane.Hosting;

/// <summary>
/// PostgreSQL unreachable (stopped, restarting, network gone) is an outage, not a bug: every call, the key check
/// of a wrong key included, answers 503 with Retry-After instead of a 500. Errors PostgreSQL itself reports (a
/// constraint, a bad query) are not caught here.
/// </summary>
internal sealed partial class DatabaseUnavailableExceptionHandler(IProblemDetailsService problems, ILogger<DatabaseUnavailableExceptionHandler> logger)
    : IExceptionHandler
{
    public async ValueTask<bool> TryHandleAsync(HttpContext httpContext, Exception exception, CancellationToken cancellationToken)
    {
        if (!IsUnavailable(exception) || httpContext.Response.HasStarted)
        {
            return false;
        }
        logger.DatabaseUnavailable(httpContext.Request.Path, exception.GetBaseException().Message);
        httpContext.Response.StatusCode = StatusCodes.Status503ServiceUnavailable;
        httpContext.Response.Headers.RetryAfter = "5";
        return await problems.TryWriteAsync(new ProblemDetailsContext
        {
            HttpContext = httpContext,
            ProblemDetails = new ProblemDetails
            {
                Status = StatusCodes.Status503ServiceUnavailable,
                Type = ProblemTypes.For("database-unavailable"),
                Title = "Database unavailable",
                Detail = "The platform's database cannot be reached right now; nothing was changed. Retry shortly.",
            },
        });
    }

    /// <summary>True for connection-level failures anywhere in the chain (EF wraps them in its own exceptions).</summary>
    internal static bool IsUnavailable(Exception exception)
    {
        for (var e = exception; e is not null; e = e.InnerException)
        {
            switch (e)
            {
                case PostgresException pg:
                    // Server-side errors: only the ones that mean "not available now" (shutting down, starting up, too many connections).
                    return pg.SqlState is PostgresErrorCodes.AdminShutdown or PostgresErrorCodes.CrashShutdown or PostgresErrorCodes.CannotConnectNow
                        or PostgresErrorCodes.TooManyConnections;
                case NpgsqlException:
                case SocketException:
                case TimeoutException:
                    return true;
            }
        }
        return false;
    }

}
