using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

namespace Platform.Runtime;

public static class RuntimeServiceCollectionExtensions
{
    /// <summary>
    /// Registers what a host that validates (and precompiles) modules needs: the engine host and the validator, with
    /// <see cref="WasmRuntimeOptions"/> bound from "Platform:Runtime" and validated at startup.
    /// </summary>
    public static OptionsBuilder<WasmRuntimeOptions> AddWasmValidation(this IServiceCollection services)
    {
        ArgumentNullException.ThrowIfNull(services);
        services.TryAddSingleton<WasmEngineHost>();
        services.TryAddSingleton<ModuleValidator>();
        services.AddOptions<CompileSandboxOptions>().BindConfiguration(CompileSandboxOptions.SectionName).ValidateDataAnnotations().ValidateOnStart();
        services.TryAddSingleton<CompileSandbox>();
        return services.AddOptions<WasmRuntimeOptions>()
            .BindConfiguration(WasmRuntimeOptions.SectionName)
            .ValidateDataAnnotations()
            .ValidateOnStart();
    }

    /// <summary>
    /// Registers what a host that runs apps needs on top of validation: the module cache, the outbound HTTP client
    /// (with <see cref="Outbound.OutboundOptions"/> bound and validated) and the WAGI executor.
    /// </summary>
    public static OptionsBuilder<WasmRuntimeOptions> AddPlatformRuntime(this IServiceCollection services)
    {
        var options = services.AddWasmValidation();
        services.TryAddSingleton<ModuleCache>();
        services.AddOptions<Outbound.OutboundOptions>()
            .BindConfiguration(Outbound.OutboundOptions.SectionName)
            .ValidateDataAnnotations()
            .ValidateOnStart();
        services.TryAddSingleton<Outbound.OutboundHttpClient>();
        services.TryAddSingleton<WagiExecutor>();
        return options;
    }
}
