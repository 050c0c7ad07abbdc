using Microsoft.Extensions.DependencyInjection;

namespace Platform.Runtime;

public static class RuntimeServiceCollectionExtensions
{
    /// <summary>
    /// Registers the engine host, module cache, validator and WAGI executor as singletons, with
    /// <see cref="WasmRuntimeOptions"/> bound from "Platform:Runtime" and validated at startup.
    /// </summary>
    public static IServiceCollection AddPlatformRuntime(this IServiceCollection services, Action<WasmRuntimeOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(services);
        var options = services.AddOptions<WasmRuntimeOptions>()
            .BindConfiguration(WasmRuntimeOptions.SectionName)
            .ValidateDataAnnotations()
            .ValidateOnStart();
        if (configure is not null)
        {
            options.Configure(configure);
        }
        services.AddSingleton<WasmEngineHost>();
        services.AddSingleton<ModuleCache>();
        services.AddSingleton<ModuleValidator>();
        services.AddSingleton<WagiExecutor>();
        services.AddOptions<CompileSandboxOptions>().BindConfiguration(CompileSandboxOptions.SectionName).ValidateDataAnnotations().ValidateOnStart();
        services.AddSingleton<CompileSandbox>();
        return services;
    }
}
