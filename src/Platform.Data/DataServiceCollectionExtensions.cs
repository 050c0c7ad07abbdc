using System.ComponentModel.DataAnnotations;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace Platform.Data;

public sealed class DatabaseOptions
{
    public const string Section = "Platform:Database";

    [Required(ErrorMessage = "Platform:Database:ConnectionString is required (env Platform__Database__ConnectionString).")]
    public string ConnectionString { get; set; } = "";

    /// <summary>Apply pending EF Core migrations when the control plane starts.</summary>
    public bool MigrateOnStart { get; set; }
}

public static class DataServiceCollectionExtensions
{
    public static IServiceCollection AddPlatformData(this IServiceCollection services)
    {
        services.AddOptions<DatabaseOptions>().BindConfiguration(DatabaseOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        services.AddDbContextPool<PlatformDbContext>((sp, o) =>
            Configure(o, sp.GetRequiredService<IOptions<DatabaseOptions>>().Value.ConnectionString));
        return services;
    }

    public static DbContextOptionsBuilder Configure(DbContextOptionsBuilder builder, string connectionString) =>
        builder.UseNpgsql(connectionString, npgsql => npgsql.MigrationsAssembly(PlatformDbContext.MigrationsAssembly));

    /// <summary>Options for code that runs without DI (the migration runner, design-time tools, tests).</summary>
    public static DbContextOptions<PlatformDbContext> CreateOptions(string connectionString)
    {
        var builder = new DbContextOptionsBuilder<PlatformDbContext>();
        Configure(builder, connectionString);
        return builder.Options;
    }
}
