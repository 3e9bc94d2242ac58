//! The `acr` helper: for `*.azurecr.io` (and the `.cn`, `.de`, `.us` clouds' hosts), an
//! Entra ID (AAD) access token, exchanged at the registry's own `/oauth2/exchange` for an
//! ACR refresh token, which the client then trades for registry tokens (the identity-token
//! flow, as docker-credential-acr-env answers `<token>`). The AAD token comes from a
//! service principal (`AZURE_TENANT_ID`, `AZURE_CLIENT_ID`, `AZURE_CLIENT_SECRET`) or
//! workload identity (`AZURE_FEDERATED_TOKEN_FILE` or `AZURE_FEDERATED_TOKEN`, with
//! `AZURE_TENANT_ID` and `AZURE_CLIENT_ID`), at `AZURE_AUTHORITY_HOST` (else the cloud
//! `AZURE_ENVIRONMENT` names, else `https://login.microsoftonline.com`).

use super::web::{fail, form, json};
use super::{Ctx, Snapshot};
use crate::credential::Credential;
use crate::Error;
use std::path::{Path, PathBuf};

const HELPER: &str = "acr";

pub(crate) fn is_acr(host: &str) -> bool {
    [".azurecr.io", ".azurecr.cn", ".azurecr.de", ".azurecr.us"]
        .iter()
        .any(|s| host.ends_with(s))
}

pub(crate) fn files(env: &Snapshot) -> Vec<PathBuf> {
    env.var("AZURE_FEDERATED_TOKEN_FILE")
        .map(PathBuf::from)
        .into_iter()
        .collect()
}

/// The authority and the resource-manager scope of the cloud in use.
fn cloud(env: &Snapshot) -> (String, &'static str) {
    let (authority, scope) = match env
        .var("AZURE_ENVIRONMENT")
        .map(str::to_ascii_uppercase)
        .as_deref()
    {
        Some("AZURECHINACLOUD") => (
            "https://login.chinacloudapi.cn",
            "https://management.chinacloudapi.cn/.default",
        ),
        Some("AZUREUSGOVERNMENT" | "AZUREUSGOVERNMENTCLOUD") => (
            "https://login.microsoftonline.us",
            "https://management.usgovcloudapi.net/.default",
        ),
        Some("AZUREGERMANCLOUD") => (
            "https://login.microsoftonline.de",
            "https://management.microsoftazure.de/.default",
        ),
        _ => (
            "https://login.microsoftonline.com",
            "https://management.azure.com/.default",
        ),
    };
    let authority = env.var("AZURE_AUTHORITY_HOST").unwrap_or(authority);
    (authority.trim_end_matches('/').to_string(), scope)
}

/// The AAD token, or `None` when no service principal or workload identity is set.
async fn aad_token(
    env: &Snapshot,
    ctx: &Ctx<'_>,
    tenant: &str,
    client: &str,
) -> Result<Option<String>, Error> {
    let (authority, scope) = cloud(env);
    let mut pairs = vec![
        ("grant_type", "client_credentials".to_string()),
        ("client_id", client.into()),
        ("scope", scope.into()),
    ];
    if let Some(secret) = env.var("AZURE_CLIENT_SECRET") {
        pairs.push(("client_secret", secret.into()));
    } else {
        let jwt = match (
            env.var("AZURE_FEDERATED_TOKEN_FILE"),
            env.var("AZURE_FEDERATED_TOKEN"),
        ) {
            (Some(f), _) => {
                String::from_utf8_lossy(env.file(Path::new(f)).map_err(|e| fail(HELPER, e))?)
                    .trim()
                    .to_string()
            }
            (None, Some(t)) => t.to_string(),
            (None, None) => return Ok(None),
        };
        pairs.push((
            "client_assertion_type",
            "urn:ietf:params:oauth:client-assertion-type:jwt-bearer".into(),
        ));
        pairs.push(("client_assertion", jwt));
    }
    let borrowed: Vec<(&str, &str)> = pairs.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let body = form(&borrowed);
    let url = format!("{authority}/{tenant}/oauth2/v2.0/token");
    #[derive(serde::Deserialize)]
    struct Token {
        access_token: String,
    }
    let answer = ctx.web.post_form(HELPER, &url, body).await?;
    Ok(Some(json::<Token>(HELPER, &url, &answer)?.access_token))
}

/// The registry's refresh token, or `None` for another host or without Azure settings.
pub(crate) async fn get(
    env: &Snapshot,
    ctx: &Ctx<'_>,
    host: &str,
) -> Result<Option<Credential>, Error> {
    if !is_acr(host) {
        return Ok(None);
    }
    let (Some(tenant), Some(client)) = (env.var("AZURE_TENANT_ID"), env.var("AZURE_CLIENT_ID"))
    else {
        tracing::debug!("acr: AZURE_TENANT_ID and AZURE_CLIENT_ID are not both set");
        return Ok(None);
    };
    let Some(aad) = aad_token(env, ctx, tenant, client).await? else {
        tracing::debug!("acr: no AZURE_CLIENT_SECRET and no federated token");
        return Ok(None);
    };
    let url = format!("{}/oauth2/exchange", ctx.endpoint.base);
    let body = form(&[
        ("grant_type", "access_token"),
        ("service", host),
        ("tenant", tenant),
        ("access_token", &aad),
    ]);
    #[derive(serde::Deserialize)]
    struct Exchanged {
        refresh_token: String,
    }
    let answer = ctx.web.post_form(HELPER, &url, body).await?;
    let refresh = json::<Exchanged>(HELPER, &url, &answer)?.refresh_token;
    Ok(Some(Credential::IdentityToken(refresh)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::builtin::Builtins;
    use std::collections::HashMap;

    #[test]
    fn hosts_and_clouds() {
        assert!(is_acr("myreg.azurecr.io"));
        assert!(!is_acr("azurecr.io.evil"));
        let b = Builtins::new(
            Some(&[]),
            HashMap::from([(
                "AZURE_ENVIRONMENT".to_string(),
                "AzureChinaCloud".to_string(),
            )]),
        );
        assert_eq!(cloud(&b.env).0, "https://login.chinacloudapi.cn");
        let b = Builtins::new(
            Some(&[]),
            HashMap::from([(
                "AZURE_AUTHORITY_HOST".to_string(),
                "http://127.0.0.1:9/".to_string(),
            )]),
        );
        assert_eq!(cloud(&b.env).0, "http://127.0.0.1:9");
    }
}
