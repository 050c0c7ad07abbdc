using System.Security.Cryptography;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.EntityFrameworkCore;
using Platform.Data;

namespace Platform.ControlPlane.Services;

/// <summary>What setting or removing a secret did.</summary>
public enum SecretChange
{
    Created,
    Replaced,
    Removed,
    TooMany,
    AppNotFound,
    SecretNotFound,
}

/// <summary>
/// App secrets: encrypted with ASP.NET Core Data Protection (its key ring in PostgreSQL), each ciphertext bound to
/// its app's id and its name (a ciphertext copied to another row does not decrypt), decrypted only to build the
/// routing table for routers. Values are never returned, logged or put in a problem.
/// </summary>
public sealed class AppSecretStore(PlatformDbContext db, IDataProtectionProvider protection, TimeProvider clock)
{
    private const string Purpose = "Platform.AppSecrets.v1";

    public async Task<SecretChange> SetAsync(string appName, string name, string value, CancellationToken cancellationToken)
    {
        var app = await db.Apps.Where(a => a.Name == appName).Select(a => new { a.Id }).FirstOrDefaultAsync(cancellationToken);
        if (app is null)
        {
            return SecretChange.AppNotFound;
        }
        var ciphertext = Protect(protection, app.Id, name, value);
        var now = clock.GetUtcNow();
        var existing = await db.AppSecrets.FirstOrDefaultAsync(s => s.AppId == app.Id && s.Name == name, cancellationToken);
        if (existing is null)
        {
            if (await db.AppSecrets.CountAsync(s => s.AppId == app.Id, cancellationToken) >= Configuration.AppSettingsValidator.MaxSecrets)
            {
                return SecretChange.TooMany;
            }
            db.AppSecrets.Add(new AppSecret { Id = Guid.CreateVersion7(), AppId = app.Id, Name = name, Ciphertext = ciphertext, CreatedAt = now, UpdatedAt = now });
        }
        else
        {
            existing.Ciphertext = ciphertext;
            existing.UpdatedAt = now;
        }
        await db.SaveChangesAsync(cancellationToken);
        // After the row is committed: the apps trigger's NOTIFY then wakes every replica, which sees the new value.
        await TouchAppAsync(app.Id, now, cancellationToken);
        return existing is null ? SecretChange.Created : SecretChange.Replaced;
    }

    public async Task<SecretChange> RemoveAsync(string appName, string name, CancellationToken cancellationToken)
    {
        var app = await db.Apps.Where(a => a.Name == appName).Select(a => new { a.Id }).FirstOrDefaultAsync(cancellationToken);
        if (app is null)
        {
            return SecretChange.AppNotFound;
        }
        var deleted = await db.AppSecrets.Where(s => s.AppId == app.Id && s.Name == name).ExecuteDeleteAsync(cancellationToken);
        if (deleted == 0)
        {
            return SecretChange.SecretNotFound;
        }
        await TouchAppAsync(app.Id, clock.GetUtcNow(), cancellationToken);
        return SecretChange.Removed;
    }

    /// <summary>Names and times of an app's secrets, or null when the app does not exist.</summary>
    public async Task<List<AppSecret>?> ListAsync(string appName, CancellationToken cancellationToken)
    {
        var app = await db.Apps.Where(a => a.Name == appName).Select(a => new { a.Id }).FirstOrDefaultAsync(cancellationToken);
        if (app is null)
        {
            return null;
        }
        return await db.AppSecrets.AsNoTracking().Where(s => s.AppId == app.Id).OrderBy(s => s.Name).ToListAsync(cancellationToken);
    }

    /// <summary>Secret names per app id, for app responses (names only).</summary>
    public static async Task<Dictionary<Guid, List<string>>> NamesAsync(PlatformDbContext db, IReadOnlyCollection<Guid> appIds, CancellationToken cancellationToken)
    {
        var rows = await db.AppSecrets.AsNoTracking().Where(s => appIds.Contains(s.AppId)).OrderBy(s => s.Name)
            .Select(s => new { s.AppId, s.Name }).ToListAsync(cancellationToken);
        return rows.GroupBy(r => r.AppId).ToDictionary(g => g.Key, g => g.Select(r => r.Name).ToList());
    }

    public static async Task<List<string>> NamesAsync(PlatformDbContext db, Guid appId, CancellationToken cancellationToken) =>
        (await NamesAsync(db, [appId], cancellationToken)).GetValueOrDefault(appId) ?? [];

    private async Task TouchAppAsync(Guid appId, DateTimeOffset now, CancellationToken cancellationToken) =>
        await db.Apps.Where(a => a.Id == appId).ExecuteUpdateAsync(u => u.SetProperty(a => a.UpdatedAt, now), cancellationToken);

    internal static string Protect(IDataProtectionProvider protection, Guid appId, string name, string value) =>
        protection.CreateProtector(Purpose, appId.ToString("N"), name).Protect(value);

    /// <summary>The value, or null when the ciphertext does not open (key ring lost, row altered or copied).</summary>
    internal static string? Unprotect(IDataProtectionProvider protection, AppSecret secret)
    {
        try
        {
            return protection.CreateProtector(Purpose, secret.AppId.ToString("N"), secret.Name).Unprotect(secret.Ciphertext);
        }
        catch (CryptographicException)
        {
            return null;
        }
    }
}
