using System.Diagnostics;
using Microsoft.AspNetCore.Http.HttpResults;
using Platform.Bundles;
using Platform.ControlPlane.Services;
using Platform.Oci;

namespace Platform.ControlPlane.Apis;

/// <summary>The one place the services' outcomes (publish failures, quota violations) become problem responses.</summary>
internal static class OutcomeProblems
{
    /// <summary>409 for what the tenant holds (fine again once something is deleted), 422 for a limit no app of it may have.</summary>
    public static ProblemHttpResult ToProblem(this QuotaViolation violation) => Problems.Create(
        violation.Current is null ? StatusCodes.Status422UnprocessableEntity : StatusCodes.Status409Conflict,
        "quota-exceeded", "Quota exceeded", violation.Detail,
        new Dictionary<string, object?>
        {
            ["quota"] = violation.Quota, ["requested"] = violation.Requested, ["maximum"] = violation.Maximum, ["current"] = violation.Current,
        });

    public static ProblemHttpResult ToProblem(this PublishFailure failure) => failure switch
    {
        PublishFailure.AppNotFound f => Problems.AppNotFound(f.App),
        PublishFailure.QuotaExceeded f => f.Violation.ToProblem(),
        PublishFailure.BundleRefused f => Problems.Create(f.Status, f.Kind, f.Title, f.Detail),
        PublishFailure.InvalidAllowedOutboundHosts f => Problems.Create(StatusCodes.Status422UnprocessableEntity, "invalid-allowed-outbound-hosts", "Invalid allowed_outbound_hosts",
            $"Component '{f.ComponentId}': allowed_outbound_hosts {(f.Entry is null ? "" : $"entry '{f.Entry}' ")}is not valid: {f.Detail}"),
        PublishFailure.ComponentKindMismatch { IsComponent: false } f => Problems.Create(StatusCodes.Status422UnprocessableEntity, "component-kind-mismatch", "Module does not fit its trigger",
            $"Component '{f.ComponentId}' has no WAGI executor, so it must be a wasi:http component, but '{f.Source}' is a core WebAssembly module; add executor = {{ type = \"wagi\" }} to its trigger if it is a WASI command module."),
        PublishFailure.ComponentKindMismatch f => Problems.Create(StatusCodes.Status422UnprocessableEntity, "component-kind-mismatch", "Module does not fit its trigger",
            $"Component '{f.ComponentId}' has a WAGI executor, but '{f.Source}' is a WebAssembly component; remove the executor from its trigger to run it as a wasi:http component."),
        PublishFailure.UnsupportedComponentFiles f => Problems.Create(StatusCodes.Status422UnprocessableEntity, "unsupported-component-files", "Files for wasi:http components are not supported",
            $"Component '{f.ComponentId}' is a wasi:http component with {f.FileCount} file(s) (first '{f.FirstFile}'); this platform gives components no filesystem yet, only WAGI modules get files."),
        PublishFailure.NotWasm f => Problems.Create(StatusCodes.Status400BadRequest, "not-wasm", "Not a WebAssembly module",
            $"{f.What} does not start with the WebAssembly magic bytes {WasmBinary.MagicHex} (it starts with '{f.Head}', {f.Length} bytes in all)."),
        PublishFailure.InvalidModule f => Problems.Create(StatusCodes.Status422UnprocessableEntity, "invalid-module", "Invalid module",
            $"{f.What} was refused by the validator: {f.Error}"),
        PublishFailure.ModuleTooExpensive f => Problems.Create(StatusCodes.Status422UnprocessableEntity, "module-too-expensive", "Module too expensive to compile", $"{f.What}: {f.Error}",
            new Dictionary<string, object?>
            {
                ["cpuSeconds"] = Math.Round(f.Figures.CpuSeconds, 2),
                ["peakMemoryBytes"] = f.Figures.PeakMemoryBytes,
                ["wallSeconds"] = Math.Round(f.Figures.WallSeconds, 2),
                ["cpuLimitSeconds"] = f.CpuLimitSeconds,
                ["memoryLimitBytes"] = f.MemoryLimitBytes,
                ["wallLimitSeconds"] = f.WallLimitSeconds,
            }),
        PublishFailure.RegistryFailed { Unreachable: true } f => Problems.Create(StatusCodes.Status503ServiceUnavailable, "registry-unavailable", "Registry unavailable",
            $"The OCI registry could not be reached ({f.Message}); no version was recorded. Try again."),
        PublishFailure.RegistryFailed f => Problems.Create(StatusCodes.Status502BadGateway, "registry-error", "Registry refused the push",
            $"The OCI registry refused the upload ({f.Message}); no version was recorded."),
        PublishFailure.InvalidReference f => Problems.Validation($"The OCI reference '{f.Reference}' is not valid: {f.Error}", "ociReference", f.Reference),
        PublishFailure.ReferenceNotWasm f => Problems.Create(StatusCodes.Status422UnprocessableEntity, "reference-not-wasm", "Not a Wasm artifact",
            $"'{f.Reference}' is neither a Spin app (config '{BundleLayout.SpinConfigMediaType}') nor a Wasm artifact with one module layer " +
            $"(its config is '{f.ConfigMediaType}', layers: {string.Join(", ", f.LayerMediaTypes.Select(t => $"'{t}'").DefaultIfEmpty("none"))})."),
        PublishFailure.ReferenceNotFound f => Problems.Create(StatusCodes.Status422UnprocessableEntity, "reference-not-found", "Reference not found",
            $"'{f.Reference}' was not found: {f.Message}"),
        PublishFailure.ReferenceTooLarge f => Problems.Create(StatusCodes.Status413PayloadTooLarge, "bundle-too-large", "Artifact too large",
            $"'{f.Reference}' is larger than allowed: {f.Message}"),
        PublishFailure.ReferenceUnavailable f => Problems.Create(StatusCodes.Status502BadGateway, "reference-unavailable", "Source registry failed",
            $"'{f.Reference}' could not be pulled ({f.Message}); no version was recorded."),
        _ => throw new UnreachableException($"No problem response for {failure.GetType().Name}."),
    };
}
