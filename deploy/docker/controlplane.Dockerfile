# syntax=docker/dockerfile:1
# Control plane: REST API, dashboard and OpenAPI document on 5080, with /healthz and /readyz on the same port.
# The dashboard is assembled from web/ by web/build.mjs in a Node stage (the SDK image has no Node), so the
# publish below skips its own dashboard step (-p:BuildDashboard=false).
# Build context is the repository root:
#   docker build -f deploy/docker/controlplane.Dockerfile -t platform/controlplane .

# Only the files `dotnet restore` reads (project files, central package versions, build settings), so the
# restore layer below is reused until one of them changes, not on every source edit.
FROM --platform=$BUILDPLATFORM mcr.microsoft.com/dotnet/sdk:10.0 AS restore-inputs
WORKDIR /src
COPY . .
RUN find . -type f ! \( -name '*.csproj' -o -name 'Directory.Build.props' -o -name 'Directory.Build.targets' \
        -o -name 'Directory.Packages.props' -o -name 'global.json' -o -iname 'nuget.config' \) -delete \
 && find . -type d -empty -delete

FROM --platform=$BUILDPLATFORM node:20-bookworm-slim AS dashboard
WORKDIR /src
COPY web/ web/
RUN node web/build.mjs --out /dashboard

FROM --platform=$BUILDPLATFORM mcr.microsoft.com/dotnet/sdk:10.0 AS build
ARG TARGETARCH
WORKDIR /src
COPY --from=restore-inputs /src/ ./
# Restoring for the target architecture keeps only that architecture's Wasmtime native library in the image
# (the control plane validates uploads with Wasmtime).
RUN dotnet restore src/Platform.ControlPlane/Platform.ControlPlane.csproj -a "${TARGETARCH:-amd64}"
COPY . .
COPY --from=dashboard /dashboard/ src/Platform.ControlPlane/wwwroot/
RUN dotnet publish src/Platform.ControlPlane/Platform.ControlPlane.csproj -c Release -a "${TARGETARCH:-amd64}" \
        --no-restore --self-contained false -p:UseAppHost=false -p:BuildDashboard=false -o /app

FROM mcr.microsoft.com/dotnet/aspnet:10.0 AS runtime
WORKDIR /app
# Bind on every interface inside the container (the default is loopback), and clear the base image's
# ASPNETCORE_HTTP_PORTS=8080 so Platform:ControlPlane:Url is the only listener setting.
# The control plane writes nothing to disk: the root file system can be read-only (plus a writable /tmp).
ENV ASPNETCORE_HTTP_PORTS= \
    Platform__ControlPlane__Url=http://0.0.0.0:5080
COPY --chmod=0755 deploy/docker/healthcheck.sh /usr/local/bin/healthcheck
COPY --from=build /app ./
# The image's unprivileged "app" user (UID 1654), numeric so Kubernetes can verify runAsNonRoot.
USER $APP_UID
EXPOSE 5080
ENTRYPOINT ["dotnet", "Platform.ControlPlane.dll"]
