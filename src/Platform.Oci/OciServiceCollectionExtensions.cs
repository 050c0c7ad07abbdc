using System.Net.Http.Headers;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Platform.Oci;

namespace Microsoft.Extensions.DependencyInjection;

public static class OciServiceCollectionExtensions
{
    /// <summary>Name of the HttpClient behind <see cref="OciClient"/> (for extra handlers or resilience policies).</summary>
    public const string HttpClientName = "Platform.Oci";

    /// <summary>
    /// Registers <see cref="OciClient"/> (typed HttpClient) and <see cref="IOciRegistryClient"/>, with options bound from
    /// the <c>Platform:Registry</c> section of <paramref name="configuration"/> (the root configuration, or that section itself)
    /// and validated with DataAnnotations at start-up.
    /// </summary>
    public static IHttpClientBuilder AddOciRegistryClient(this IServiceCollection services, IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(configuration);
        var section = configuration is IConfigurationSection s && string.Equals(s.Path, OciRegistryOptions.SectionName, StringComparison.OrdinalIgnoreCase)
            ? s
            : configuration.GetSection(OciRegistryOptions.SectionName);
        services.AddOptions<OciRegistryOptions>().Bind(section).ValidateDataAnnotations().ValidateOnStart();
        return AddCore(services);
    }

    /// <summary>Registers <see cref="OciClient"/> and <see cref="IOciRegistryClient"/> with options set in code.</summary>
    public static IHttpClientBuilder AddOciRegistryClient(this IServiceCollection services, Action<OciRegistryOptions> configure)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(configure);
        services.AddOptions<OciRegistryOptions>().Configure(configure).ValidateDataAnnotations().ValidateOnStart();
        return AddCore(services);
    }

    private static IHttpClientBuilder AddCore(IServiceCollection services)
    {
        services.TryAddSingleton<RegistryAuthState>();
        var builder = services.AddHttpClient(HttpClientName, (sp, http) =>
        {
            var options = sp.GetRequiredService<IOptions<OciRegistryOptions>>().Value;
            http.BaseAddress = new Uri(options.Url.TrimEnd('/') + "/");
            http.Timeout = options.RequestTimeout;
            http.DefaultRequestHeaders.UserAgent.Add(new ProductInfoHeaderValue("Platform.Oci", "1.0"));
        });
        builder.AddTypedClient((http, sp) => new OciClient(
            http,
            sp.GetRequiredService<IOptions<OciRegistryOptions>>().Value,
            sp.GetRequiredService<RegistryAuthState>(),
            sp.GetService<ILogger<OciClient>>(),
            sp.GetService<TimeProvider>()));
        services.TryAddTransient<IOciRegistryClient>(sp => sp.GetRequiredService<OciClient>());
        return builder;
    }
}
