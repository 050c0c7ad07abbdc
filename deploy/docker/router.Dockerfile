# syntax=docker/dockerfile:1
# Router: runs the apps. App traffic on 8080, health (/healthz, /readyz) and Prometheus /metrics on 9090.
# Build context is the repository root:
#   docker build -f deploy/docker/router.Dockerfile -t platform/router .

# Only the files `dotnet restore` reads (project files, central package versions, build settings), so the
# restore layer below is reused until one of them changes, not on every source edit.
FROM --platform=$BUILDPLATFORM mcr.microsoft.com/dotnet/sdk:10.0 AS restore-inputs
WORKDIR /src
COPY . .
RUN find . -type f ! \( -name '*.csproj' -o -name 'Directory.Build.props' -o -name 'Directory.Build.targets' \
        -o -name 'Directory.Packages.props' -o -name 'global.json' -o -iname 'nuget.config' \) -delete \
 && find . -type d -empty -delete

FROM --platform=$BUILDPLATFORM mcr.microsoft.com/dotnet/sdk:10.0 AS build
ARG TARGETARCH
WORKDIR /src
COPY --from=restore-inputs /src/ ./
# Restoring for the target architecture keeps only that architecture's Wasmtime native library in the image.
RUN dotnet restore src/Platform.Router/Platform.Router.csproj -a "${TARGETARCH:-amd64}"
COPY . .
RUN dotnet publish src/Platform.Router/Platform.Router.csproj -c Release -a "${TARGETARCH:-amd64}" \
        --no-restore --self-contained false -p:UseAppHost=false -o /app

FROM mcr.microsoft.com/dotnet/aspnet:10.0 AS runtime
WORKDIR /app
# Bind on every interface inside the container (the defaults are loopback), and clear the base image's
# ASPNETCORE_HTTP_PORTS=8080 so the router's own listener settings are the only ones.
# The cache and state folders are the only places the router writes: the root file system can be read-only
# (Kubernetes mounts emptyDirs there and on /tmp; compose uses named volumes and a tmpfs).
ENV ASPNETCORE_HTTP_PORTS= \
    Platform__Router__Url=http://0.0.0.0:8080 \
    Platform__Router__ManagementUrl=http://0.0.0.0:9090 \
    Platform__Router__CacheDirectory=/var/cache/platform/router \
    Platform__Router__StateDirectory=/var/lib/platform/router
RUN mkdir -p /var/cache/platform/router /var/lib/platform/router \
 && chown "$APP_UID:$APP_UID" /var/cache/platform/router /var/lib/platform/router
COPY --chmod=0755 deploy/docker/healthcheck.sh /usr/local/bin/healthcheck
COPY --from=build /app ./
# The image's unprivileged "app" user (UID 1654), numeric so Kubernetes can verify runAsNonRoot.
USER $APP_UID
VOLUME ["/var/cache/platform/router", "/var/lib/platform/router"]
EXPOSE 8080 9090
ENTRYPOINT ["dotnet", "Platform.Router.dll"]
