//! lighttpd on a free loopback port: static files from a document root, and git's
//! `http-backend` as a CGI under `/git/` for the bare repositories of a project root;
//! optionally behind basic auth and TLS (a self-signed certificate for 127.0.0.1).

use super::Process;
use crate::registry::{free_port, self_signed};
use anyhow::{Context, Result};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;

/// The CGI that serves git over HTTP (Debian's git).
const HTTP_BACKEND: &str = "/usr/lib/git-core/git-http-backend";

/// How to start the server.
#[derive(Clone, Debug, Default)]
pub struct Config {
    /// Basic-auth user and password required for every path.
    pub basic_auth: Option<(String, String)>,
    pub tls: bool,
}

pub struct HttpServer {
    /// `127.0.0.1:PORT`.
    pub addr: String,
    /// The CA certificate (the server's own) when TLS is on.
    pub cert: Option<PathBuf>,
    /// Files under it are served at `/files/`.
    pub docroot: PathBuf,
    /// Bare repositories under it are served at `/git/`.
    pub repos: PathBuf,
    process: Process,
}

impl HttpServer {
    pub fn start(config: Config) -> Result<HttpServer> {
        let dir = tempfile::Builder::new().prefix("httpd-").tempdir()?;
        let port = free_port()?;
        let d = dir.path().to_path_buf();
        let (docroot, repos) = (d.join("files"), d.join("repos"));
        std::fs::create_dir_all(&docroot)?;
        std::fs::create_dir_all(&repos)?;
        let cert = if config.tls {
            Some(self_signed(&d, "httpd")?)
        } else {
            None
        };
        let conf = d.join("lighttpd.conf");
        std::fs::write(&conf, config_text(&config, &d, port, cert.as_ref())?)?;
        let mut cmd = Command::new("lighttpd");
        cmd.arg("-D").arg("-f").arg(&conf);
        let process = Process::spawn(cmd, dir, port).context("starting lighttpd")?;
        Ok(HttpServer {
            addr: format!("127.0.0.1:{port}"),
            cert: cert.map(|(c, _)| c),
            docroot,
            repos,
            process,
        })
    }

    /// Serves `bytes` at `/files/<name>`.
    pub fn put_file(&self, name: &str, bytes: &[u8]) -> Result<()> {
        let p = self.docroot.join(name);
        if let Some(parent) = p.parent() {
            std::fs::create_dir_all(parent)?;
        }
        Ok(std::fs::write(p, bytes)?)
    }

    /// The server's error log, for failing tests.
    pub fn log(&self) -> String {
        let errors =
            std::fs::read_to_string(self.process.path().join("error.log")).unwrap_or_default();
        format!("{}{errors}", self.process.log_text())
    }
}

fn config_text(
    c: &Config,
    dir: &Path,
    port: u16,
    cert: Option<&(PathBuf, PathBuf)>,
) -> Result<String> {
    let mut s = String::new();
    let mut modules = vec![
        "mod_alias",
        "mod_cgi",
        "mod_setenv",
        "mod_auth",
        "mod_authn_file",
    ];
    if cert.is_some() {
        modules.push("mod_openssl");
    }
    let quoted: Vec<String> = modules.iter().map(|m| format!("\"{m}\"")).collect();
    writeln!(s, "server.modules = ({})", quoted.join(", "))?;
    writeln!(s, "server.bind = \"127.0.0.1\"\nserver.port = {port}")?;
    writeln!(
        s,
        "server.document-root = \"{}\"",
        dir.join("files").display()
    )?;
    writeln!(
        s,
        "server.errorlog = \"{}\"",
        dir.join("error.log").display()
    )?;
    writeln!(s, "server.max-request-size = 1048576")?;
    writeln!(
        s,
        "alias.url = (\"/git\" => \"{HTTP_BACKEND}\", \"/files/\" => \"{}/\")",
        dir.join("files").display()
    )?;
    writeln!(
        s,
        "$HTTP[\"url\"] =~ \"^/git\" {{\n  cgi.assign = (\"\" => \"\")"
    )?;
    writeln!(
        s,
        "  setenv.add-environment = (\"GIT_PROJECT_ROOT\" => \"{}\", \"GIT_HTTP_EXPORT_ALL\" => \"1\")\n}}",
        dir.join("repos").display()
    )?;
    if let Some((user, password)) = &c.basic_auth {
        let users = dir.join("users");
        std::fs::write(&users, format!("{user}:{password}\n"))?;
        writeln!(
            s,
            "auth.backend = \"plain\"\nauth.backend.plain.userfile = \"{}\"",
            users.display()
        )?;
        writeln!(
            s,
            "auth.require = (\"/\" => (\"method\" => \"basic\", \"realm\" => \"ctx\", \"require\" => \"valid-user\"))"
        )?;
    }
    if let Some((crt, key)) = cert {
        writeln!(
            s,
            "ssl.engine = \"enable\"\nssl.pemfile = \"{}\"\nssl.privkey = \"{}\"",
            crt.display(),
            key.display()
        )?;
    }
    Ok(s)
}
