using Platform.Runtime.Components.Native;

namespace Platform.Runtime.Components.Host;

/// <summary>wasi:http/types and wasi:http/outgoing-handler (0.2.x) over the host's own resources.</summary>
internal static unsafe class WasiHttp
{
    private const string Types = "wasi:http/types";

    // error-code cases that carry a payload, and the payload each gets when the host raises it without details.
    private static readonly Dictionary<string, Func<Val>> s_errorPayloads = new(StringComparer.Ordinal)
    {
        ["internal-error"] = V.None,
        ["HTTP-response-transfer-coding"] = V.None,
        ["HTTP-response-content-coding"] = V.None,
        ["HTTP-request-body-size"] = V.None,
        ["HTTP-response-body-size"] = V.None,
        ["HTTP-request-header-section-size"] = V.None,
        ["HTTP-request-trailer-section-size"] = V.None,
        ["HTTP-response-header-section-size"] = V.None,
        ["HTTP-response-trailer-section-size"] = V.None,
        ["HTTP-request-header-size"] = V.None,
        ["HTTP-request-trailer-size"] = V.None,
        ["HTTP-response-header-size"] = V.None,
        ["HTTP-response-trailer-size"] = V.None,
    };

    private static readonly HashSet<string> s_plainErrors = new(StringComparer.Ordinal)
    {
        "DNS-timeout", "destination-not-found", "destination-unavailable", "destination-IP-prohibited", "destination-IP-unroutable",
        "connection-refused", "connection-terminated", "connection-timeout", "connection-read-timeout", "connection-write-timeout",
        "connection-limit-reached", "TLS-protocol-error", "TLS-certificate-error", "HTTP-request-denied", "HTTP-request-length-required",
        "HTTP-request-method-invalid", "HTTP-request-URI-invalid", "HTTP-request-URI-too-long", "HTTP-response-incomplete",
        "HTTP-response-timeout", "HTTP-upgrade-failed", "HTTP-protocol-error", "loop-detected", "configuration-error",
    };

    public static void Add(Action<string, string, int, int, HostFunction> add)
    {
        // fields
        add(Types, "[constructor]fields", 0, 1, c => c.Return(c.Own(ResourceKind.Fields, new Fields([], immutable: false))));
        add(Types, "[static]fields.from-list", 1, 1, FieldsFromList);
        add(Types, "[method]fields.get", 2, 1, c =>
        {
            var fields = c.Borrow<Fields>(0, ResourceKind.Fields);
            var name = c.String(1);
            var values = fields.Entries.Where(e => string.Equals(e.Key, name, StringComparison.OrdinalIgnoreCase)).Select(e => e.Value).ToList();
            c.Return(V.List(values.Count, i => V.Bytes(values[i])));
        });
        add(Types, "[method]fields.has", 2, 1, c =>
        {
            var fields = c.Borrow<Fields>(0, ResourceKind.Fields);
            var name = c.String(1);
            c.Return(V.Bool(fields.Entries.Exists(e => string.Equals(e.Key, name, StringComparison.OrdinalIgnoreCase))));
        });
        add(Types, "[method]fields.set", 3, 1, c =>
        {
            var fields = c.Borrow<Fields>(0, ResourceKind.Fields);
            var name = c.String(1);
            var items = ValReader.Items(c.Arg(2), ValKind.List, c.Name);
            var values = new List<byte[]>(items.Length);
            fixed (Val* first = items)
            {
                for (var i = 0; i < items.Length; i++)
                {
                    values.Add(ValReader.Bytes(first + i, c.Name));
                }
            }
            if (CheckChange(fields, name, values) is { } error)
            {
                c.Return(V.Err(V.Variant(error)));
                return;
            }
            fields.Entries.RemoveAll(e => string.Equals(e.Key, name, StringComparison.OrdinalIgnoreCase));
            fields.Entries.AddRange(values.Select(v => KeyValuePair.Create(name, v)));
            c.Return(V.Ok());
        });
        add(Types, "[method]fields.delete", 2, 1, c =>
        {
            var fields = c.Borrow<Fields>(0, ResourceKind.Fields);
            var name = c.String(1);
            if (CheckChange(fields, name, []) is { } error)
            {
                c.Return(V.Err(V.Variant(error)));
                return;
            }
            fields.Entries.RemoveAll(e => string.Equals(e.Key, name, StringComparison.OrdinalIgnoreCase));
            c.Return(V.Ok());
        });
        add(Types, "[method]fields.append", 3, 1, c =>
        {
            var fields = c.Borrow<Fields>(0, ResourceKind.Fields);
            var name = c.String(1);
            var value = ValReader.Bytes(c.Arg(2), c.Name);
            if (CheckChange(fields, name, [value]) is { } error)
            {
                c.Return(V.Err(V.Variant(error)));
                return;
            }
            fields.Entries.Add(KeyValuePair.Create(name, value));
            c.Return(V.Ok());
        });
        add(Types, "[method]fields.entries", 1, 1, c =>
        {
            var entries = c.Borrow<Fields>(0, ResourceKind.Fields).Entries;
            c.Return(V.List(entries.Count, i => V.Tuple(V.String(entries[i].Key), V.Bytes(entries[i].Value))));
        });
        add(Types, "[method]fields.clone", 1, 1, c =>
        {
            var fields = c.Borrow<Fields>(0, ResourceKind.Fields);
            c.Return(c.Own(ResourceKind.Fields, new Fields([.. fields.Entries], immutable: false)));
        });

        // incoming-request
        add(Types, "[method]incoming-request.method", 1, 1, c => c.Return(Method(c.Borrow<IncomingRequest>(0, ResourceKind.IncomingRequest).Request.Method)));
        add(Types, "[method]incoming-request.path-with-query", 1, 1, c =>
            c.Return(V.Some(V.String(c.Borrow<IncomingRequest>(0, ResourceKind.IncomingRequest).Request.PathWithQuery))));
        add(Types, "[method]incoming-request.scheme", 1, 1, c =>
            c.Return(V.Some(Scheme(c.Borrow<IncomingRequest>(0, ResourceKind.IncomingRequest).Request.Scheme))));
        add(Types, "[method]incoming-request.authority", 1, 1, c =>
            c.Return(V.Some(V.String(c.Borrow<IncomingRequest>(0, ResourceKind.IncomingRequest).Request.Authority))));
        add(Types, "[method]incoming-request.headers", 1, 1, c =>
            c.Return(c.Own(ResourceKind.Fields, c.Borrow<IncomingRequest>(0, ResourceKind.IncomingRequest).Headers)));
        add(Types, "[method]incoming-request.consume", 1, 1, c =>
        {
            var request = c.Borrow<IncomingRequest>(0, ResourceKind.IncomingRequest);
            if (request.Consumed)
            {
                c.Return(V.Err());
                return;
            }
            request.Consumed = true;
            c.Return(V.Ok(c.Own(ResourceKind.IncomingBody, new IncomingBody(request.Request.Body))));
        });

        // incoming-body, future-trailers
        add(Types, "[method]incoming-body.stream", 1, 1, c =>
        {
            var body = c.Borrow<IncomingBody>(0, ResourceKind.IncomingBody);
            if (body.StreamTaken)
            {
                c.Return(V.Err());
                return;
            }
            body.StreamTaken = true;
            c.Return(V.Ok(c.Own(ResourceKind.InputStream, new InputStream(body.Data))));
        });
        add(Types, "[static]incoming-body.finish", 1, 1, c =>
        {
            c.Take<IncomingBody>(0, ResourceKind.IncomingBody);
            c.Return(c.Own(ResourceKind.FutureTrailers, new FutureTrailers()));
        });
        add(Types, "[method]future-trailers.subscribe", 1, 1, c =>
        {
            c.Borrow<FutureTrailers>(0, ResourceKind.FutureTrailers);
            c.Return(c.Own(ResourceKind.Pollable, new Pollable(Pollable.AlwaysReady)));
        });
        // Requests arrive fully buffered and without trailers: some(ok(ok(none))).
        add(Types, "[method]future-trailers.get", 1, 1, c =>
        {
            c.Borrow<FutureTrailers>(0, ResourceKind.FutureTrailers);
            c.Return(V.Some(V.Ok(V.Ok(V.None()))));
        });

        // outgoing-response, outgoing-body, response-outparam
        add(Types, "[constructor]outgoing-response", 1, 1, c =>
        {
            var headers = c.Take<Fields>(0, ResourceKind.Fields);
            c.Return(c.Own(ResourceKind.OutgoingResponse, new OutgoingResponse(new Fields(headers.Entries, immutable: false), c.State.Limits.MaxResponseBytes)));
        });
        add(Types, "[method]outgoing-response.status-code", 1, 1, c => c.Return(V.U16(c.Borrow<OutgoingResponse>(0, ResourceKind.OutgoingResponse).Status)));
        add(Types, "[method]outgoing-response.set-status-code", 2, 1, c =>
        {
            var response = c.Borrow<OutgoingResponse>(0, ResourceKind.OutgoingResponse);
            var status = ValReader.U16(c.Arg(1), c.Name);
            if (status is < 100 or > 999)
            {
                c.Return(V.Err());
                return;
            }
            response.Status = status;
            c.Return(V.Ok());
        });
        add(Types, "[method]outgoing-response.headers", 1, 1, c =>
            c.Return(c.Own(ResourceKind.Fields, c.Borrow<OutgoingResponse>(0, ResourceKind.OutgoingResponse).Headers.ImmutableView())));
        add(Types, "[method]outgoing-response.body", 1, 1, c =>
        {
            var response = c.Borrow<OutgoingResponse>(0, ResourceKind.OutgoingResponse);
            if (response.BodyTaken)
            {
                c.Return(V.Err());
                return;
            }
            response.BodyTaken = true;
            c.Return(V.Ok(c.Own(ResourceKind.OutgoingBody, new OutgoingBody(response.Body))));
        });
        add(Types, "[method]outgoing-body.write", 1, 1, c =>
        {
            var body = c.Borrow<OutgoingBody>(0, ResourceKind.OutgoingBody);
            if (body.StreamTaken)
            {
                c.Return(V.Err());
                return;
            }
            body.StreamTaken = true;
            c.Return(V.Ok(c.Own(ResourceKind.OutputStream, new OutputStream(OutputTarget.Body, body.Buffer))));
        });
        add(Types, "[static]outgoing-body.finish", 2, 1, c =>
        {
            var body = c.Take<OutgoingBody>(0, ResourceKind.OutgoingBody);
            var trailers = ValReader.Option(c.Arg(1), c.Name);
            if (trailers != null)
            {
                // Trailers cannot be sent on a buffered response; they are accepted and dropped.
                c.Take<Fields>(trailers, ResourceKind.Fields);
            }
            body.Buffer.Finished = true;
            c.Return(V.Ok());
        });
        add(Types, "[static]response-outparam.set", 2, 0, c =>
        {
            c.Take<ResponseOutparam>(0, ResourceKind.ResponseOutparam);
            var result = c.Arg(1);
            if (c.State.ResponseSet)
            {
                throw new GuestTrapException("response-outparam.set was called twice");
            }
            if (ValReader.ResultIsOk(result, c.Name))
            {
                c.State.Response = c.Take<OutgoingResponse>(ValReader.ResultPayload(result), ResourceKind.OutgoingResponse);
            }
            else
            {
                var error = ValReader.ResultPayload(result);
                c.State.ResponseErrorCode = error == null ? "unknown" : ValReader.CaseName(error, c.Name);
            }
            c.State.ResponseSet = true;
        });
        add(Types, "[method]response-outparam.send-informational", 3, 1, c =>
        {
            c.Borrow<ResponseOutparam>(0, ResourceKind.ResponseOutparam);
            c.Take<Fields>(2, ResourceKind.Fields);
            // A buffered response cannot carry 1xx responses ahead of it; the guest learns it was not sent.
            c.Return(V.Err(ErrorCode("HTTP-protocol-error")));
        });
        add(Types, "http-error-code", 1, 1, c =>
        {
            c.Borrow<IoError>(0, ResourceKind.IoError);
            c.Return(V.None());
        });

        AddOutgoing(add);
    }

    private static void AddOutgoing(Action<string, string, int, int, HostFunction> add)
    {
        add(Types, "[constructor]outgoing-request", 1, 1, c =>
        {
            var headers = c.Take<Fields>(0, ResourceKind.Fields);
            c.Return(c.Own(ResourceKind.OutgoingRequest, new OutgoingRequest(new Fields(headers.Entries, immutable: false), c.State.Limits.MaxRequestBodyBytes)));
        });
        add(Types, "[method]outgoing-request.body", 1, 1, c =>
        {
            var request = c.Borrow<OutgoingRequest>(0, ResourceKind.OutgoingRequest);
            if (request.BodyTaken)
            {
                c.Return(V.Err());
                return;
            }
            request.BodyTaken = true;
            c.Return(V.Ok(c.Own(ResourceKind.OutgoingBody, new OutgoingBody(request.Body))));
        });
        add(Types, "[method]outgoing-request.method", 1, 1, c => c.Return(Method(c.Borrow<OutgoingRequest>(0, ResourceKind.OutgoingRequest).Method)));
        add(Types, "[method]outgoing-request.set-method", 2, 1, c =>
        {
            var request = c.Borrow<OutgoingRequest>(0, ResourceKind.OutgoingRequest);
            var method = ReadMethod(c.Arg(1), c.Name);
            if (method is null)
            {
                c.Return(V.Err());
                return;
            }
            request.Method = method;
            c.Return(V.Ok());
        });
        add(Types, "[method]outgoing-request.path-with-query", 1, 1, c => c.Return(OptionalString(c.Borrow<OutgoingRequest>(0, ResourceKind.OutgoingRequest).PathWithQuery)));
        add(Types, "[method]outgoing-request.set-path-with-query", 2, 1, c =>
        {
            var request = c.Borrow<OutgoingRequest>(0, ResourceKind.OutgoingRequest);
            var value = ReadOptionalString(c.Arg(1), c.Name);
            if (value is not null && (value.Length == 0 || value.Any(ch => ch <= ' ' || ch == 0x7f)))
            {
                c.Return(V.Err());
                return;
            }
            request.PathWithQuery = value;
            c.Return(V.Ok());
        });
        add(Types, "[method]outgoing-request.scheme", 1, 1, c =>
        {
            var scheme = c.Borrow<OutgoingRequest>(0, ResourceKind.OutgoingRequest).Scheme;
            c.Return(scheme is null ? V.None() : V.Some(Scheme(scheme)));
        });
        add(Types, "[method]outgoing-request.set-scheme", 2, 1, c =>
        {
            var request = c.Borrow<OutgoingRequest>(0, ResourceKind.OutgoingRequest);
            var option = ValReader.Option(c.Arg(1), c.Name);
            string? scheme = null;
            if (option != null)
            {
                var name = ValReader.CaseName(option, c.Name);
                scheme = name switch
                {
                    "HTTP" => "http",
                    "HTTPS" => "https",
                    "other" => ValReader.String(ValReader.VariantPayload(option), c.Name),
                    _ => null,
                };
                if (scheme is null || scheme.Length == 0 || !scheme.All(ch => char.IsAsciiLetterOrDigit(ch) || ch is '+' or '-' or '.'))
                {
                    c.Return(V.Err());
                    return;
                }
            }
            request.Scheme = scheme;
            c.Return(V.Ok());
        });
        add(Types, "[method]outgoing-request.authority", 1, 1, c => c.Return(OptionalString(c.Borrow<OutgoingRequest>(0, ResourceKind.OutgoingRequest).Authority)));
        add(Types, "[method]outgoing-request.set-authority", 2, 1, c =>
        {
            var request = c.Borrow<OutgoingRequest>(0, ResourceKind.OutgoingRequest);
            var value = ReadOptionalString(c.Arg(1), c.Name);
            if (value is not null && value.Any(ch => ch <= ' ' || ch is '/' or '?' or '#' or '\x7f'))
            {
                c.Return(V.Err());
                return;
            }
            request.Authority = value;
            c.Return(V.Ok());
        });
        add(Types, "[method]outgoing-request.headers", 1, 1, c =>
            c.Return(c.Own(ResourceKind.Fields, c.Borrow<OutgoingRequest>(0, ResourceKind.OutgoingRequest).Headers.ImmutableView())));

        add(Types, "[constructor]request-options", 0, 1, c => c.Return(c.Own(ResourceKind.RequestOptions, new RequestOptions())));
        add(Types, "[method]request-options.connect-timeout", 1, 1, c => c.Return(OptionalU64(c.Borrow<RequestOptions>(0, ResourceKind.RequestOptions).ConnectTimeout)));
        add(Types, "[method]request-options.first-byte-timeout", 1, 1, c => c.Return(OptionalU64(c.Borrow<RequestOptions>(0, ResourceKind.RequestOptions).FirstByteTimeout)));
        add(Types, "[method]request-options.between-bytes-timeout", 1, 1, c => c.Return(OptionalU64(c.Borrow<RequestOptions>(0, ResourceKind.RequestOptions).BetweenBytesTimeout)));
        add(Types, "[method]request-options.set-connect-timeout", 2, 1, c =>
        {
            c.Borrow<RequestOptions>(0, ResourceKind.RequestOptions).ConnectTimeout = ReadOptionalU64(c.Arg(1), c.Name);
            c.Return(V.Ok());
        });
        add(Types, "[method]request-options.set-first-byte-timeout", 2, 1, c =>
        {
            c.Borrow<RequestOptions>(0, ResourceKind.RequestOptions).FirstByteTimeout = ReadOptionalU64(c.Arg(1), c.Name);
            c.Return(V.Ok());
        });
        add(Types, "[method]request-options.set-between-bytes-timeout", 2, 1, c =>
        {
            c.Borrow<RequestOptions>(0, ResourceKind.RequestOptions).BetweenBytesTimeout = ReadOptionalU64(c.Arg(1), c.Name);
            c.Return(V.Ok());
        });

        add(Types, "[method]future-incoming-response.subscribe", 1, 1, c =>
        {
            c.Borrow<FutureIncomingResponse>(0, ResourceKind.FutureIncomingResponse);
            c.Return(c.Own(ResourceKind.Pollable, new Pollable(Pollable.AlwaysReady)));
        });
        add(Types, "[method]future-incoming-response.get", 1, 1, c =>
        {
            var future = c.Borrow<FutureIncomingResponse>(0, ResourceKind.FutureIncomingResponse);
            if (future.Taken)
            {
                c.Return(V.Some(V.Err()));
                return;
            }
            future.Taken = true;
            var response = future.Result.Response!;
            var headers = new Fields([.. response.Headers.Where(h => WasiImports.IsValidFieldName(h.Key) && !WasiImports.IsHopByHop(h.Key) && WasiImports.IsValidFieldValue(h.Value))], immutable: true);
            c.Return(V.Some(V.Ok(V.Ok(c.Own(ResourceKind.IncomingResponse, new IncomingResponse(response, headers))))));
        });
        add(Types, "[method]incoming-response.status", 1, 1, c =>
            c.Return(V.U16((ushort)c.Borrow<IncomingResponse>(0, ResourceKind.IncomingResponse).Response.StatusCode)));
        add(Types, "[method]incoming-response.headers", 1, 1, c =>
            c.Return(c.Own(ResourceKind.Fields, c.Borrow<IncomingResponse>(0, ResourceKind.IncomingResponse).Headers)));
        add(Types, "[method]incoming-response.consume", 1, 1, c =>
        {
            var response = c.Borrow<IncomingResponse>(0, ResourceKind.IncomingResponse);
            if (response.Consumed)
            {
                c.Return(V.Err());
                return;
            }
            response.Consumed = true;
            c.Return(V.Ok(c.Own(ResourceKind.IncomingBody, new IncomingBody(response.Response.Body))));
        });

        add("wasi:http/outgoing-handler", "handle", 2, 1, c =>
        {
            var request = c.Take<OutgoingRequest>(0, ResourceKind.OutgoingRequest);
            var options = ValReader.Option(c.Arg(1), c.Name);
            if (options != null)
            {
                c.Take<RequestOptions>(options, ResourceKind.RequestOptions);
            }
            if (!c.State.OutboundBudget.TryAcquire())
            {
                // The same cap as WAGI's outbound ABI: the guest must drop a response before it starts another call.
                c.State.Log($"[outbound] refused a request: the component holds {c.State.OutboundBudget.Max} outbound responses already");
                c.Return(V.Err(ErrorCode("connection-limit-reached")));
                return;
            }
            var outbound = new ComponentOutboundRequest(request.Method, request.Scheme ?? "https", request.Authority ?? "",
                request.PathWithQuery ?? "/", [.. request.Headers.Entries], request.Body.Memory, c.State.Request.AppName)
            {
                Policy = c.State.Request.Outbound,
                DeadlineTimestamp = c.State.DeadlineTimestamp,
                Log = c.State.Log,
            };
            using var timeout = new CancellationTokenSource(DeadlineRemaining(c.State));
            using var linked = CancellationTokenSource.CreateLinkedTokenSource(timeout.Token, c.State.CancellationToken);
            ComponentOutboundResult result;
            try
            {
                result = c.State.Outbound.Send(outbound, linked.Token);
                c.State.ThrowIfStopped();
            }
            catch
            {
                c.State.OutboundBudget.Release();
                throw;
            }
            if (result.Response is null)
            {
                c.State.OutboundBudget.Release();
                c.Return(V.Err(ErrorCode(result.ErrorCode ?? "internal-error")));
                return;
            }
            c.Return(V.Ok(c.Own(ResourceKind.FutureIncomingResponse, new FutureIncomingResponse(result, c.State.OutboundBudget))));
        });
    }

    private static TimeSpan DeadlineRemaining(RequestState state)
    {
        var remaining = TimeSpan.FromSeconds((state.DeadlineTimestamp - System.Diagnostics.Stopwatch.GetTimestamp()) / (double)System.Diagnostics.Stopwatch.Frequency);
        return remaining < TimeSpan.FromMilliseconds(1) ? TimeSpan.FromMilliseconds(1) : remaining;
    }

    private static void FieldsFromList(HostCall c)
    {
        var items = ValReader.Items(c.Arg(0), ValKind.List, c.Name);
        var entries = new List<KeyValuePair<string, byte[]>>(items.Length);
        fixed (Val* first = items)
        {
            for (var i = 0; i < items.Length; i++)
            {
                var pair = ValReader.Items(first + i, ValKind.Tuple, c.Name);
                if (pair.Length != 2)
                {
                    throw new GuestTrapException($"{c.Name}: expected (name, value) tuples");
                }
                fixed (Val* p = pair)
                {
                    var name = ValReader.String(p, c.Name);
                    var value = ValReader.Bytes(p + 1, c.Name);
                    if (!WasiImports.IsValidFieldName(name) || !WasiImports.IsValidFieldValue(value))
                    {
                        c.Return(V.Err(V.Variant("invalid-syntax")));
                        return;
                    }
                    if (WasiImports.IsForbiddenField(name))
                    {
                        c.Return(V.Err(V.Variant("forbidden")));
                        return;
                    }
                    entries.Add(KeyValuePair.Create(name, value));
                }
            }
        }
        c.Return(V.Ok(c.Own(ResourceKind.Fields, new Fields(entries, immutable: false))));
    }

    /// <summary>The header-error case a change would cause, or null when it is allowed.</summary>
    private static string? CheckChange(Fields fields, string name, IEnumerable<byte[]> values)
    {
        if (fields.Immutable)
        {
            return "immutable";
        }
        if (!WasiImports.IsValidFieldName(name) || values.Any(v => !WasiImports.IsValidFieldValue(v)))
        {
            return "invalid-syntax";
        }
        return WasiImports.IsForbiddenField(name) ? "forbidden" : null;
    }

    public static Val ErrorCode(string name)
    {
        if (s_plainErrors.Contains(name))
        {
            return V.Variant(name);
        }
        if (s_errorPayloads.TryGetValue(name, out var payload))
        {
            return V.Variant(name, payload());
        }
        return V.Variant("internal-error", V.Some(V.String(name)));
    }

    private static Val Method(string method) => method.ToUpperInvariant() switch
    {
        "GET" => V.Variant("get"),
        "HEAD" => V.Variant("head"),
        "POST" => V.Variant("post"),
        "PUT" => V.Variant("put"),
        "DELETE" => V.Variant("delete"),
        "CONNECT" => V.Variant("connect"),
        "OPTIONS" => V.Variant("options"),
        "TRACE" => V.Variant("trace"),
        "PATCH" => V.Variant("patch"),
        _ => V.Variant("other", V.String(method)),
    };

    private static string? ReadMethod(Val* value, string what)
    {
        var name = ValReader.CaseName(value, what);
        if (name == "other")
        {
            var other = ValReader.String(ValReader.VariantPayload(value), what);
            return WasiImports.IsValidFieldName(other) ? other : null;
        }
        return name is "get" or "head" or "post" or "put" or "delete" or "connect" or "options" or "trace" or "patch" ? name.ToUpperInvariant() : null;
    }

    private static Val Scheme(string scheme) => scheme.ToLowerInvariant() switch
    {
        "http" => V.Variant("HTTP"),
        "https" => V.Variant("HTTPS"),
        _ => V.Variant("other", V.String(scheme)),
    };

    private static Val OptionalString(string? value) => value is null ? V.None() : V.Some(V.String(value));

    private static Val OptionalU64(ulong? value) => value is { } v ? V.Some(V.U64(v)) : V.None();

    private static string? ReadOptionalString(Val* value, string what)
    {
        var payload = ValReader.Option(value, what);
        return payload == null ? null : ValReader.String(payload, what);
    }

    private static ulong? ReadOptionalU64(Val* value, string what)
    {
        var payload = ValReader.Option(value, what);
        return payload == null ? null : ValReader.U64(payload, what);
    }
}
