using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Platform.ControlPlane.Services;
using Platform.Data;

namespace Platform.ControlPlane.Tests.Integration;

[Collection(ControlPlaneCollection.Name)]
[Trait("Category", "Integration")]
public sealed class StatsRetentionTests(ControlPlaneFixture fixture)
{
    [Fact]
    public async Task The_retention_pass_deletes_figures_older_than_a_day_and_keeps_the_recent_ones()
    {
        var app = ApiHelpers.UniqueAppName("stats");
        var now = DateTimeOffset.UtcNow;
        var old = new DateTimeOffset(now.Year, now.Month, now.Day, now.Hour, now.Minute, 0, TimeSpan.Zero).AddHours(-30);
        var recent = old.AddHours(29);
        await using (var scope = fixture.Factory.Services.CreateAsyncScope())
        {
            var db = scope.ServiceProvider.GetRequiredService<PlatformDbContext>();
            db.RequestStats.AddRange(
                new RequestStat { AppName = app, Minute = old, Requests = 1, LatencyBuckets = [1] },
                new RequestStat { AppName = app, Minute = recent, Requests = 2, LatencyBuckets = [2] });
            await db.SaveChangesAsync();
        }

        var retention = fixture.Factory.Services.GetServices<IHostedService>().OfType<RequestStatsRetention>().Single();
        var deleted = await retention.RunOnceAsync(CancellationToken.None);

        Assert.True(deleted >= 1);
        await using (var scope = fixture.Factory.Services.CreateAsyncScope())
        {
            var db = scope.ServiceProvider.GetRequiredService<PlatformDbContext>();
            var left = await db.RequestStats.AsNoTracking().Where(s => s.AppName == app).Select(s => s.Requests).ToListAsync();
            Assert.Equal([2L], left);
        }
    }
}
