//! The `gitlab` helper: in a GitLab CI job, the registry named by `CI_REGISTRY` (host
//! names compared, scheme and port aside, as docker-credential-gitlabci does) gets
//! `CI_REGISTRY_USER`/`CI_REGISTRY_PASSWORD`, else `gitlab-ci-token` with `CI_JOB_TOKEN`;
//! the dependency proxy (`CI_DEPENDENCY_PROXY_SERVER`) gets
//! `CI_DEPENDENCY_PROXY_USER`/`CI_DEPENDENCY_PROXY_PASSWORD`.

use super::{hostname, Snapshot};
use crate::credential::Credential;

fn host_of(url: &str) -> String {
    let rest = url.split_once("://").map_or(url, |(_, r)| r);
    hostname(rest.split('/').next().unwrap_or(rest))
}

fn pair(env: &Snapshot, user: &str, password: &str) -> Option<Credential> {
    Some(Credential::Basic {
        username: env.var(user)?.to_string(),
        password: env.var(password)?.to_string(),
    })
}

/// The job's credential for `host`, if it is the job's registry or dependency proxy.
pub(crate) fn get(env: &Snapshot, host: &str) -> Option<Credential> {
    if env.var("CI_REGISTRY").is_some_and(|r| host_of(r) == host) {
        return pair(env, "CI_REGISTRY_USER", "CI_REGISTRY_PASSWORD").or_else(|| {
            env.var("CI_JOB_TOKEN").map(|t| Credential::Basic {
                username: "gitlab-ci-token".into(),
                password: t.to_string(),
            })
        });
    }
    if env
        .var("CI_DEPENDENCY_PROXY_SERVER")
        .is_some_and(|r| host_of(r) == host)
    {
        return pair(
            env,
            "CI_DEPENDENCY_PROXY_USER",
            "CI_DEPENDENCY_PROXY_PASSWORD",
        );
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::builtin::Builtins;
    use std::collections::HashMap;

    fn env(pairs: &[(&str, &str)]) -> Builtins {
        let vars: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        Builtins::new(Some(&[]), vars)
    }

    #[test]
    fn registry_and_job_token() {
        let b = env(&[
            ("CI_REGISTRY", "registry.gitlab.example:5050"),
            ("CI_JOB_TOKEN", "job"),
        ]);
        let want = Credential::Basic {
            username: "gitlab-ci-token".into(),
            password: "job".into(),
        };
        assert_eq!(get(&b.env, "registry.gitlab.example"), Some(want));
        assert_eq!(get(&b.env, "other.example"), None);
        let b = env(&[
            ("CI_REGISTRY", "https://registry.gitlab.example"),
            ("CI_REGISTRY_USER", "u"),
            ("CI_REGISTRY_PASSWORD", "p"),
            ("CI_JOB_TOKEN", "job"),
            ("CI_DEPENDENCY_PROXY_SERVER", "gitlab.example:443"),
            ("CI_DEPENDENCY_PROXY_USER", "dp"),
            ("CI_DEPENDENCY_PROXY_PASSWORD", "dpp"),
        ]);
        assert!(
            matches!(get(&b.env, "registry.gitlab.example"), Some(Credential::Basic { username, .. }) if username == "u")
        );
        assert!(
            matches!(get(&b.env, "gitlab.example"), Some(Credential::Basic { username, .. }) if username == "dp")
        );
    }
}
