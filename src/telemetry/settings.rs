//! Whether and where to send traces, from the environment: the maintained kaniko fork's
//! `KANIKO_TELEMETRY_ENDPOINT` (OTLP over HTTP; a URL without a path gets `/v1/traces`),
//! or the standard `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT` (as written) /
//! `OTEL_EXPORTER_OTLP_ENDPOINT` (`/v1/traces` appended for HTTP), with
//! `OTEL_EXPORTER_OTLP_[TRACES_]PROTOCOL` choosing `http/protobuf` (the default) or `grpc`.
//! `OTEL_SDK_DISABLED=true` or `OTEL_TRACES_EXPORTER=none` turn tracing off. Headers,
//! timeout and compression are the exporter crate's (`OTEL_EXPORTER_OTLP_[TRACES_]HEADERS`,
//! `…_TIMEOUT`, `…_COMPRESSION`); `service.name` and `OTEL_RESOURCE_ATTRIBUTES` the SDK's.

/// The fork's switch.
pub const ENDPOINT: &str = "KANIKO_TELEMETRY_ENDPOINT";
/// The fork's: `true` keeps the Dockerfile's text out of the trace.
pub const OMIT_DOCKERFILE: &str = "KANIKO_TELEMETRY_OMIT_DOCKERFILE";

/// Every variable the trace settings, the resource and the parent span read (resolved
/// once with the command line: `crate::cli::Environment`).
pub const VARIABLES: [&str; 14] = [
    ENDPOINT,
    OMIT_DOCKERFILE,
    "OTEL_SDK_DISABLED",
    "OTEL_TRACES_EXPORTER",
    "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL",
    "OTEL_EXPORTER_OTLP_PROTOCOL",
    "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT",
    "OTEL_EXPORTER_OTLP_ENDPOINT",
    "OTEL_EXPORTER_OTLP_TRACES_CERTIFICATE",
    "OTEL_EXPORTER_OTLP_CERTIFICATE",
    "OTEL_SERVICE_NAME",
    "OTEL_RESOURCE_ATTRIBUTES",
    "TRACEPARENT",
    "TRACESTATE",
];

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Protocol {
    HttpProtobuf,
    Grpc,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Settings {
    pub protocol: Protocol,
    /// For HTTP the full URL of the traces resource; for gRPC the collector's URL.
    pub endpoint: String,
    pub omit_dockerfile: bool,
    /// Said once logging is up (a plaintext endpoint, a value that is not a boolean).
    pub warnings: Vec<String>,
}

pub type Env<'a> = &'a dyn Fn(&str) -> Option<String>;

impl Settings {
    /// `None`: tracing is off (nothing is set up, no thread, no connection).
    pub fn from_env(env: Env) -> Result<Option<Settings>, String> {
        let get = |k: &str| env(k).filter(|v| !v.trim().is_empty());
        let disabled = get("OTEL_SDK_DISABLED").is_some_and(|v| v.eq_ignore_ascii_case("true"))
            || get("OTEL_TRACES_EXPORTER").is_some_and(|v| v.eq_ignore_ascii_case("none"));
        if disabled {
            return Ok(None);
        }
        let protocol = match get("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL")
            .or_else(|| get("OTEL_EXPORTER_OTLP_PROTOCOL"))
            .as_deref()
        {
            None | Some("http/protobuf") => Protocol::HttpProtobuf,
            Some("grpc") => Protocol::Grpc,
            Some(other) => {
                return Err(format!(
                    "OTEL_EXPORTER_OTLP_PROTOCOL={other:?}: want http/protobuf or grpc"
                ))
            }
        };
        let http = protocol == Protocol::HttpProtobuf;
        let endpoint = if let Some(e) = get(ENDPOINT) {
            if http {
                fork_traces_url(&e)
            } else {
                e
            }
        } else if let Some(e) = get("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT") {
            e
        } else if let Some(e) = get("OTEL_EXPORTER_OTLP_ENDPOINT") {
            if http {
                format!("{}/v1/traces", e.trim_end_matches('/'))
            } else {
                e
            }
        } else {
            return Ok(None);
        };
        let url = reqwest::Url::parse(&endpoint)
            .map_err(|e| format!("telemetry endpoint {endpoint:?}: {e}"))?;
        if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none() {
            return Err(format!(
                "telemetry endpoint {endpoint:?}: want an http:// or https:// URL"
            ));
        }
        let mut warnings = Vec::new();
        if url.scheme() == "http" && !is_loopback(&url) {
            warnings.push(format!(
                "the telemetry endpoint {} uses plaintext http: spans (with the Dockerfile's text) are sent unencrypted",
                url.origin().ascii_serialization()
            ));
        }
        let omit_dockerfile = match get(OMIT_DOCKERFILE) {
            None => false,
            Some(v) => parse_go_bool(&v).unwrap_or_else(|| {
                warnings.push(format!(
                    "{OMIT_DOCKERFILE}={v:?} is not a valid boolean; Dockerfile content WILL be exported"
                ));
                false
            }),
        };
        Ok(Some(Settings {
            protocol,
            endpoint,
            omit_dockerfile,
            warnings,
        }))
    }
}

/// The fork's rule: a URL with no path (or `/`) gets `/v1/traces`; one with a path is the
/// traces resource itself.
fn fork_traces_url(endpoint: &str) -> String {
    match reqwest::Url::parse(endpoint) {
        Ok(mut u) if u.path().is_empty() || u.path() == "/" => {
            u.set_path("/v1/traces");
            u.to_string()
        }
        _ => endpoint.to_string(),
    }
}

fn is_loopback(url: &reqwest::Url) -> bool {
    let host = url.host_str().unwrap_or("");
    let ip = host.trim_start_matches('[').trim_end_matches(']');
    host == "localhost"
        || ip
            .parse::<std::net::IpAddr>()
            .is_ok_and(|a| a.is_loopback())
}

/// Go's `strconv.ParseBool`, as the fork reads its variables.
fn parse_go_bool(v: &str) -> Option<bool> {
    match v {
        "1" | "t" | "T" | "TRUE" | "true" | "True" => Some(true),
        "0" | "f" | "F" | "FALSE" | "false" | "False" => Some(false),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(vars: &[(&str, &str)]) -> Result<Option<Settings>, String> {
        let vars: Vec<(String, String)> = vars
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        Settings::from_env(&move |k| vars.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone()))
    }

    fn endpoint(vars: &[(&str, &str)]) -> (Protocol, String) {
        let s = settings(vars).unwrap().unwrap();
        (s.protocol, s.endpoint)
    }

    #[test]
    fn off_unless_an_endpoint_is_set() {
        assert_eq!(settings(&[]), Ok(None));
        assert_eq!(settings(&[(ENDPOINT, "")]), Ok(None));
        let on = [(ENDPOINT, "http://c:4318")];
        assert_eq!(settings(&[on[0], ("OTEL_SDK_DISABLED", "true")]), Ok(None));
        assert_eq!(
            settings(&[on[0], ("OTEL_TRACES_EXPORTER", "none")]),
            Ok(None)
        );
    }

    #[test]
    fn endpoints_as_the_fork_and_the_specification_read_them() {
        let http = Protocol::HttpProtobuf;
        assert_eq!(
            endpoint(&[(ENDPOINT, "http://c:4318")]),
            (http, "http://c:4318/v1/traces".into())
        );
        assert_eq!(
            endpoint(&[(ENDPOINT, "https://c/otlp/v1/traces")]),
            (http, "https://c/otlp/v1/traces".into())
        );
        assert_eq!(
            endpoint(&[("OTEL_EXPORTER_OTLP_ENDPOINT", "http://c:4318/base/")]),
            (http, "http://c:4318/base/v1/traces".into())
        );
        assert_eq!(
            endpoint(&[
                ("OTEL_EXPORTER_OTLP_ENDPOINT", "http://ignored:1"),
                ("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "http://c:4318/t")
            ]),
            (http, "http://c:4318/t".into())
        );
        // The fork's variable wins over the standard ones.
        assert_eq!(
            endpoint(&[
                ("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "http://other:1/t"),
                (ENDPOINT, "http://c:4318")
            ]),
            (http, "http://c:4318/v1/traces".into())
        );
        assert_eq!(
            endpoint(&[
                ("OTEL_EXPORTER_OTLP_ENDPOINT", "http://c:4317"),
                ("OTEL_EXPORTER_OTLP_PROTOCOL", "grpc")
            ]),
            (Protocol::Grpc, "http://c:4317".into())
        );
        assert!(settings(&[(ENDPOINT, "c:4318")]).is_err());
        assert!(settings(&[
            (ENDPOINT, "http://c"),
            ("OTEL_EXPORTER_OTLP_PROTOCOL", "http/json")
        ])
        .is_err());
    }

    #[test]
    fn omit_dockerfile_and_warnings() {
        let s = settings(&[(ENDPOINT, "http://127.0.0.1:4318")])
            .unwrap()
            .unwrap();
        assert!(!s.omit_dockerfile && s.warnings.is_empty());
        let s = settings(&[(ENDPOINT, "https://c"), (OMIT_DOCKERFILE, "TRUE")])
            .unwrap()
            .unwrap();
        assert!(s.omit_dockerfile && s.warnings.is_empty());
        let s = settings(&[(ENDPOINT, "http://c.example"), (OMIT_DOCKERFILE, "yes")])
            .unwrap()
            .unwrap();
        assert!(!s.omit_dockerfile);
        assert_eq!(s.warnings.len(), 2, "{:?}", s.warnings);
    }
}
