using Platform.ControlPlane.Auth;
using Platform.ControlPlane.Services;
using Platform.Data;

namespace Platform.ControlPlane.Tests.Unit;

[Trait("Category", "Unit")]
public sealed class AppAccessTests
{
    private static readonly Guid s_acme = Guid.NewGuid();
    private static readonly Guid s_globex = Guid.NewGuid();
    private static readonly Guid s_app = Guid.NewGuid();

    private static Caller Key(KeyAccess access, Guid? tenant = null, params string[] apps) =>
        new("k", false, tenant ?? s_acme, "acme", apps.Length == 0 ? null : apps.ToHashSet(), access);

    [Fact]
    public void Another_tenants_app_is_not_found_for_every_access_level_and_found_for_an_admin()
    {
        foreach (var access in Enum.GetValues<KeyAccess>())
        {
            foreach (var op in Enum.GetValues<AppOperation>())
            {
                Assert.Equal(AppAccessOutcome.NotFound, AppAuthorizer.Decide(Key(access), "web", s_app, s_globex, op).Outcome);
            }
        }
        var admin = new Caller("admin", true, null, null, null, KeyAccess.Full);
        Assert.Equal(AppAccessOutcome.Allowed, AppAuthorizer.Decide(admin, "web", s_app, s_globex, AppOperation.Delete).Outcome);
        Assert.Equal(AppAccessOutcome.NotFound, AppAuthorizer.Decide(admin, "web", null, null, AppOperation.Read).Outcome);
    }

    [Theory]
    [InlineData(KeyAccess.ReadOnly, AppOperation.Read, AppAccessOutcome.Allowed)]
    [InlineData(KeyAccess.ReadOnly, AppOperation.Deploy, AppAccessOutcome.Forbidden)]
    [InlineData(KeyAccess.DeployOnly, AppOperation.Deploy, AppAccessOutcome.Allowed)]
    [InlineData(KeyAccess.DeployOnly, AppOperation.Configure, AppAccessOutcome.Forbidden)]
    [InlineData(KeyAccess.DeployOnly, AppOperation.Delete, AppAccessOutcome.Forbidden)]
    [InlineData(KeyAccess.Full, AppOperation.Delete, AppAccessOutcome.Allowed)]
    public void Access_levels_allow_what_they_name_on_the_keys_own_tenants_app(KeyAccess access, AppOperation op, AppAccessOutcome expected) =>
        Assert.Equal(expected, AppAuthorizer.Decide(Key(access), "web", s_app, s_acme, op).Outcome);

    [Fact]
    public void An_app_outside_the_keys_list_is_not_found_even_in_its_own_tenant()
    {
        var scoped = Key(KeyAccess.Full, null, "api");
        Assert.Equal(AppAccessOutcome.NotFound, AppAuthorizer.Decide(scoped, "web", s_app, s_acme, AppOperation.Read).Outcome);
        Assert.Equal(AppAccessOutcome.Allowed, AppAuthorizer.Decide(scoped, "api", s_app, s_acme, AppOperation.Read).Outcome);
    }

    [Fact]
    public void A_key_covers_only_keys_of_its_tenant_no_wider_than_itself()
    {
        var deployer = Key(KeyAccess.DeployOnly, null, "a", "b");
        Assert.True(deployer.Covers(s_acme, false, ["a"], KeyAccess.ReadOnly));
        Assert.True(deployer.Covers(s_acme, false, ["a", "b"], KeyAccess.DeployOnly));
        Assert.False(deployer.Covers(s_acme, false, ["a", "c"], KeyAccess.ReadOnly));
        Assert.False(deployer.Covers(s_acme, false, null, KeyAccess.ReadOnly));
        Assert.False(deployer.Covers(s_acme, false, ["a"], KeyAccess.Full));
        Assert.False(deployer.Covers(s_globex, false, ["a"], KeyAccess.ReadOnly));
        Assert.False(Key(KeyAccess.Full).Covers(null, true, null, KeyAccess.Full));
        Assert.True(Key(KeyAccess.Full).Covers(s_acme, false, null, KeyAccess.Full));
    }

    [Fact]
    public void Claims_round_trip_and_an_empty_app_list_is_not_every_app()
    {
        var claims = Caller.ClaimsFor(s_acme, "acme", [], "deploy-only").Append(new System.Security.Claims.Claim(System.Security.Claims.ClaimTypes.Name, "ci"));
        var caller = Caller.From(new System.Security.Claims.ClaimsPrincipal(new System.Security.Claims.ClaimsIdentity(claims, "test")));
        Assert.Equal(KeyAccess.DeployOnly, caller.Access);
        Assert.Equal(s_acme, caller.TenantId);
        Assert.False(caller.ScopeIncludes("web"));
        // A principal with no access claim gets the narrowest level, never full.
        var bare = Caller.From(new System.Security.Claims.ClaimsPrincipal(new System.Security.Claims.ClaimsIdentity([], "test")));
        Assert.Equal(KeyAccess.ReadOnly, bare.Access);
        Assert.False(bare.IsAdmin);
    }

    [Fact]
    public void Quotas_cap_the_limits_apps_run_with_and_name_the_quota_when_exceeded()
    {
        var tenant = new Tenant { Name = "acme", MaxTimeoutSeconds = 5, MaxMemoryLimitMb = 64 };
        Assert.Equal(5, TenantQuotas.Effective(null, 30, tenant.MaxTimeoutSeconds));
        Assert.Equal(3, TenantQuotas.Effective(3, 30, tenant.MaxTimeoutSeconds));
        Assert.Equal(30, TenantQuotas.Effective(null, 30, null));
        var over = TenantQuotas.CheckLimits(tenant, 128, null, null, null);
        Assert.Equal("maxMemoryLimitMb", over!.Quota);
        Assert.Equal(128, over.Requested);
        Assert.Equal(64, over.Maximum);
        Assert.Null(TenantQuotas.CheckLimits(tenant, 64, 5, 100_000, 50));
    }
}
