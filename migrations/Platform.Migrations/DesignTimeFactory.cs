using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Design;
using Platform.Data;

namespace Platform.Migrations;

/// <summary>Lets `dotnet ef migrations add` build the model without a running database.</summary>
public sealed class DesignTimeFactory : IDesignTimeDbContextFactory<PlatformDbContext>
{
    public PlatformDbContext CreateDbContext(string[] args) =>
        new(DataServiceCollectionExtensions.CreateOptions(
            Environment.GetEnvironmentVariable("Platform__Database__ConnectionString") ?? "Host=localhost;Database=platform_design"));
}
