using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using Platform.Runtime.Outbound;

namespace Platform.Runtime.Components;

public static class ComponentServiceCollectionExtensions
{
    /// <summary>
    /// Registers <see cref="ComponentHost"/> on the process's <see cref="WasmEngineHost"/> (registered by the module
    /// runtime) and, unless one is registered already, its outbound client: the shared
    /// <see cref="OutboundHttpClient"/> when the host registered one, otherwise one that refuses every request.
    /// </summary>
    public static IServiceCollection AddComponentRuntime(this IServiceCollection services)
    {
        ArgumentNullException.ThrowIfNull(services);
        services.TryAddSingleton<IComponentOutboundHttp>(sp => sp.GetService<OutboundHttpClient>() is { } client
            ? new SharedOutboundComponentClient(client)
            : DenyAllComponentOutbound.Instance);
        services.TryAddSingleton(sp => new ComponentHost(
            sp.GetRequiredService<WasmEngineHost>(),
            sp.GetRequiredService<IComponentOutboundHttp>(),
            sp.GetService<ILogger<ComponentHost>>()));
        services.TryAddSingleton(sp => new ComponentCodeLoader(sp.GetRequiredService<ComponentHost>()));
        services.TryAddSingleton<IComponentValidator>(sp => new ComponentValidator(sp.GetRequiredService<ComponentHost>()));
        return services;
    }
}
