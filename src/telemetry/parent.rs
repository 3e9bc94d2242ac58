//! The CI's span, from W3C Trace Context variables (`TRACEPARENT`, `TRACESTATE`), as CI
//! systems and the OpenTelemetry environment-carrier convention pass it to a step.

use super::settings::Env;
use opentelemetry::propagation::{Extractor, TextMapPropagator};
use opentelemetry::trace::TraceContextExt;
use opentelemetry_sdk::propagation::TraceContextPropagator;

struct EnvCarrier(Vec<(&'static str, String)>);

impl Extractor for EnvCarrier {
    fn get(&self, key: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(key))
            .map(|(_, v)| v.as_str())
    }

    fn keys(&self) -> Vec<&str> {
        self.0.iter().map(|(k, _)| *k).collect()
    }
}

/// The remote parent `TRACEPARENT` names, if it is a valid one.
pub fn from_env(env: Env) -> Option<opentelemetry::Context> {
    let vars: Vec<(&'static str, String)> =
        [("traceparent", "TRACEPARENT"), ("tracestate", "TRACESTATE")]
            .into_iter()
            .filter_map(|(k, var)| env(var).map(|v| (k, v.trim().to_string())))
            .collect();
    let cx = TraceContextPropagator::new().extract(&EnvCarrier(vars));
    cx.span().span_context().is_valid().then_some(cx)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_valid_traceparent_is_the_parent() {
        let tp = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
        let cx = from_env(&|k| (k == "TRACEPARENT").then(|| tp.to_string())).unwrap();
        let sc = cx.span().span_context().clone();
        assert_eq!(
            sc.trace_id().to_string(),
            "4bf92f3577b34da6a3ce929d0e0e4736"
        );
        assert_eq!(sc.span_id().to_string(), "00f067aa0ba902b7");
        assert!(sc.is_remote() && sc.is_sampled());
        assert!(from_env(&|_| None).is_none());
        assert!(from_env(&|k| (k == "TRACEPARENT").then(|| "00-zz-00-01".to_string())).is_none());
    }
}
