//! Typed configuration from `REUNIFY_*` environment variables (or flags), read once at start.

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::{Parser, Subcommand, ValueEnum};
use secrecy::SecretString;

/// Reunify: the NSPCC Reunification Practice Framework as a GraphQL service.
#[derive(Parser, Debug, Clone)]
#[command(name = "reunify", version, about, args_override_self = true)]
pub struct Cli {
    /// What to do; `serve` when omitted.
    #[command(subcommand)]
    pub command: Option<Command>,
    /// Service configuration.
    #[command(flatten)]
    pub config: Config,
}

/// The subcommands of the `reunify` binary.
#[derive(Subcommand, Debug, Clone)]
pub enum Command {
    /// Serve the GraphQL API (the default).
    Serve,
    /// Apply pending database migrations and exit.
    Migrate,
    /// Print the GraphQL schema (SDL) and exit.
    Schema,
    /// Print the framework's rules as a Markdown table (stage, action, needs, refusal code, who).
    Rules,
    /// Development only: print a signed bearer token.
    Token(TokenArgs),
    /// Load the small, fully synthetic demo local authority (DfE code 999).
    SeedDemo,
    /// Remove the records of children past their retention date and not on legal hold.
    Purge(PurgeArgs),
    /// Print every aggregate as JSON Lines across LAs (the operator's cross-LA figures; small
    /// counts are withheld as for publication).
    Insight(InsightArgs),
    /// Print the configuration reference (`docs/configuration.md`) and exit.
    ConfigReference,
    /// Exit 0 when the server on `REUNIFY_LISTEN` answers `/healthz` (a container health check).
    Healthcheck,
}

/// Arguments of `reunify insight`.
#[derive(clap::Args, Debug, Clone)]
pub struct InsightArgs {
    /// DfE codes of the LAs to include (repeat); every LA when omitted.
    #[arg(long = "la")]
    pub las: Vec<String>,
    /// First day of the period (`YYYY-MM-DD`).
    #[arg(long)]
    pub from: Option<String>,
    /// Last day of the period (`YYYY-MM-DD`).
    #[arg(long)]
    pub to: Option<String>,
    /// The date figures are taken on (`YYYY-MM-DD`); today when omitted.
    #[arg(long)]
    pub as_of: Option<String>,
    /// Dimensions to group by, comma-separated (e.g. `YEAR,LEGAL_STATUS`).
    #[arg(long)]
    pub group_by: Option<String>,
    /// Round counts to the nearest 10.
    #[arg(long)]
    pub round_to_nearest_10: bool,
}

/// Arguments of `reunify purge`.
#[derive(clap::Args, Debug, Clone)]
pub struct PurgeArgs {
    /// Purge as if today were this date (`YYYY-MM-DD`); defaults to today (UTC).
    #[arg(long)]
    pub today: Option<chrono::NaiveDate>,
    /// Count what would be purged, change nothing.
    #[arg(long)]
    pub dry_run: bool,
}

/// Arguments of `reunify token`.
#[derive(clap::Args, Debug, Clone)]
pub struct TokenArgs {
    /// DfE code of the local authority the token acts for.
    #[arg(long, default_value = "999")]
    pub la: String,
    /// Role of the caller (social_worker, team_manager, nominated_officer, iro, family_support,
    /// data_analyst, la_admin, vendor_system); repeat for several.
    #[arg(long = "role", default_value = "social_worker")]
    pub roles: Vec<String>,
    /// Subject (`sub`) of the token; defaults to a synthetic one derived from the first role.
    #[arg(long)]
    pub subject: Option<String>,
    /// Lifetime in minutes.
    #[arg(long, default_value_t = 480)]
    pub ttl_minutes: i64,
}

/// Whether the server runs for development (own signing key, GraphiQL) or production.
#[derive(ValueEnum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Local development: the server keeps its own signing key; `token` and GraphiQL work.
    Development,
    /// Production: tokens from configured issuers only; no GraphiQL, no `token`.
    Production,
}

/// Log output format.
#[derive(ValueEnum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    /// Human-readable lines (development default).
    Pretty,
    /// One JSON object per line (production default).
    Json,
}

/// Service configuration. Every field can be set by flag or by its `REUNIFY_*` variable.
#[derive(clap::Args, Debug, Clone)]
pub struct Config {
    /// Address and port to listen on.
    #[arg(
        long,
        env = "REUNIFY_LISTEN",
        default_value = "127.0.0.1:8080",
        global = true
    )]
    pub listen: SocketAddr,
    /// Database URL: `sqlite://file.db?mode=rwc` (embedded default) or `postgres://…`.
    #[arg(
        long,
        env = "REUNIFY_DATABASE_URL",
        default_value = "sqlite://reunify.db?mode=rwc",
        hide_env_values = true,
        value_parser = parse_secret,
        global = true
    )]
    pub database_url: SecretString,
    /// Database URL used to apply migrations (the schema owner); defaults to
    /// `REUNIFY_DATABASE_URL`. On PostgreSQL the service itself should connect as a login role that
    /// is a member of `reunify_app` and owns no table, so row-level security binds it.
    #[arg(
        long,
        env = "REUNIFY_MIGRATION_DATABASE_URL",
        hide_env_values = true,
        value_parser = parse_secret,
        global = true
    )]
    pub migration_database_url: Option<SecretString>,
    /// Longest a single SQL statement may run, in milliseconds (PostgreSQL `statement_timeout`, set
    /// per transaction).
    #[arg(
        long,
        env = "REUNIFY_DATABASE_STATEMENT_TIMEOUT_MS",
        default_value_t = 5_000,
        global = true
    )]
    pub database_statement_timeout_ms: u64,
    /// `development` or `production`.
    #[arg(
        long,
        env = "REUNIFY_MODE",
        value_enum,
        default_value = "development",
        global = true
    )]
    pub mode: Mode,
    /// Run migrations when `serve` starts (always on for SQLite and in development mode).
    #[arg(
        long,
        env = "REUNIFY_MIGRATE_ON_START",
        default_value_t = false,
        global = true
    )]
    pub migrate_on_start: bool,
    /// The trusted token issuers: a TOML file of `[[issuer]]` tables (discovery or JWKS URL,
    /// audience, algorithms, LA mapping, machine clients, introspection); see the README.
    #[arg(long, env = "REUNIFY_ISSUERS_FILE", global = true)]
    pub issuers_file: Option<PathBuf>,
    /// One issuer without an issuers file: a JSON Web Key Set file of its public keys (with
    /// `REUNIFY_TOKEN_ISSUER`; the LA comes from the `la` claim).
    #[arg(long, env = "REUNIFY_JWKS_FILE", global = true)]
    pub jwks_file: Option<PathBuf>,
    /// With `REUNIFY_JWKS_FILE`: the issuer's `iss` (development always trusts
    /// `reunify-development` too).
    #[arg(long, env = "REUNIFY_TOKEN_ISSUER", global = true)]
    pub token_issuer: Option<String>,
    /// Least time between two fetches of one issuer's key set (an unknown `kid` triggers one).
    #[arg(
        long,
        env = "REUNIFY_JWKS_COOLDOWN_SECONDS",
        default_value_t = 60,
        global = true
    )]
    pub jwks_cooldown_seconds: u64,
    /// Key sets older than this are fetched again when next used.
    #[arg(
        long,
        env = "REUNIFY_JWKS_MAX_AGE_SECONDS",
        default_value_t = 3_600,
        global = true
    )]
    pub jwks_max_age_seconds: u64,
    /// Expected `aud` of bearer tokens.
    #[arg(
        long,
        env = "REUNIFY_TOKEN_AUDIENCE",
        default_value = "reunify",
        global = true
    )]
    pub token_audience: String,
    /// Seconds to let in-flight requests finish after SIGTERM/SIGINT.
    #[arg(
        long,
        env = "REUNIFY_SHUTDOWN_GRACE_SECONDS",
        default_value_t = 30,
        global = true
    )]
    pub shutdown_grace_seconds: u64,
    /// Largest accepted request body, in bytes.
    #[arg(
        long,
        env = "REUNIFY_MAX_BODY_BYTES",
        default_value_t = 1_048_576,
        global = true
    )]
    pub max_body_bytes: usize,
    /// Largest accepted JSON Lines upload (`POST /imports`), in bytes.
    #[arg(
        long,
        env = "REUNIFY_MAX_IMPORT_BYTES",
        default_value_t = 67_108_864,
        global = true
    )]
    pub max_import_bytes: usize,
    /// Deepest accepted query nesting.
    #[arg(
        long,
        env = "REUNIFY_MAX_QUERY_DEPTH",
        default_value_t = 15,
        global = true
    )]
    pub max_query_depth: usize,
    /// Highest accepted query complexity (each field 1, lists multiplied by their page size).
    #[arg(
        long,
        env = "REUNIFY_MAX_QUERY_COMPLEXITY",
        default_value_t = 20_000,
        global = true
    )]
    pub max_query_complexity: usize,
    /// Most aliased fields in one request (fragments expanded).
    #[arg(long, env = "REUNIFY_MAX_ALIASES", default_value_t = 30, global = true)]
    pub max_aliases: usize,
    /// Most fields in one request, counted with fragments expanded (a cheap guard that runs before
    /// validation, against fragment bombs).
    #[arg(
        long,
        env = "REUNIFY_MAX_FIELDS",
        default_value_t = 2_000,
        global = true
    )]
    pub max_fields: usize,
    /// Most directives on one field.
    #[arg(
        long,
        env = "REUNIFY_MAX_DIRECTIVES",
        default_value_t = 5,
        global = true
    )]
    pub max_directives: usize,
    /// How long a WebSocket client has to send `connection_init`, in milliseconds (then 4408).
    #[arg(
        long,
        env = "REUNIFY_WS_INIT_TIMEOUT_MS",
        default_value_t = 5_000,
        global = true
    )]
    pub ws_init_timeout_ms: u64,
    /// Most subscriptions open on one WebSocket.
    #[arg(
        long,
        env = "REUNIFY_MAX_SUBSCRIPTIONS_PER_SOCKET",
        default_value_t = 50,
        global = true
    )]
    pub max_subscriptions_per_socket: usize,
    /// Webhooks may be registered for and delivered to private, loopback and link-local addresses
    /// (default: yes in development, no in production).
    #[arg(long, env = "REUNIFY_WEBHOOK_ALLOW_PRIVATE", global = true)]
    pub webhook_allow_private: Option<bool>,
    /// Whether this instance sends webhook deliveries (turn off to dedicate other instances to it).
    #[arg(
        long,
        env = "REUNIFY_WEBHOOK_DISPATCH",
        default_value_t = true,
        action = clap::ArgAction::Set,
        global = true
    )]
    pub webhook_dispatch: bool,
    /// First retry delay of a failed webhook delivery, in milliseconds; each retry doubles it (up
    /// to an hour), with jitter, for 24 hours.
    #[arg(
        long,
        env = "REUNIFY_WEBHOOK_RETRY_BASE_MS",
        default_value_t = 10_000,
        global = true
    )]
    pub webhook_retry_base_ms: u64,
    /// Most operations in one batched request (a JSON array); 1 accepts single requests only.
    #[arg(long, env = "REUNIFY_MAX_BATCH", default_value_t = 5, global = true)]
    pub max_batch: usize,
    /// Longest a request may take, in milliseconds; past it the request is abandoned, its
    /// transaction rolled back, and the caller gets `TIMEOUT` (HTTP 503).
    #[arg(
        long,
        env = "REUNIFY_REQUEST_TIMEOUT_MS",
        default_value_t = 15_000,
        global = true
    )]
    pub request_timeout_ms: u64,
    /// Schema introspection and field suggestions; defaults to on in development, off in production.
    #[arg(long, env = "REUNIFY_INTROSPECTION", global = true)]
    pub introspection: Option<bool>,
    /// Browser origins allowed to call the API (comma-separated, e.g.
    /// `https://portal.la.example`); none by default. `*` is not accepted.
    #[arg(
        long,
        env = "REUNIFY_CORS_ORIGINS",
        value_delimiter = ',',
        global = true
    )]
    pub cors_origins: Vec<String>,
    /// Sustained rate each caller (an LA's OAuth client, or token subject) may spend, in points
    /// (operations) per minute: the cluster's limit, shared by every instance on one PostgreSQL
    /// database.
    #[arg(
        long,
        env = "REUNIFY_RATE_LIMIT_PER_MINUTE",
        default_value = "1200",
        global = true
    )]
    pub rate_limit_per_minute: std::num::NonZeroU32,
    /// Points a caller may spend at once (the bucket's size), across every instance.
    #[arg(
        long,
        env = "REUNIFY_RATE_LIMIT_BURST",
        default_value = "200",
        global = true
    )]
    pub rate_limit_burst: std::num::NonZeroU32,
    /// Requests without valid credentials (answered 401) one network address may send per minute,
    /// and at once, to each instance; past it HTTP 429 `RATE_LIMITED`.
    #[arg(
        long,
        env = "REUNIFY_ANONYMOUS_RATE_LIMIT_PER_MINUTE",
        default_value = "60",
        global = true
    )]
    pub anonymous_rate_limit_per_minute: std::num::NonZeroU32,
    /// Reverse proxies in front of the service that append the caller's address to
    /// `X-Forwarded-For` (0: the connection's peer is the caller). Only trusted hops are read, from
    /// the right, so a client cannot choose its own address.
    #[arg(
        long,
        env = "REUNIFY_TRUSTED_PROXIES",
        default_value_t = 0,
        global = true
    )]
    pub trusted_proxies: usize,
    /// Database connection pool size.
    #[arg(
        long,
        env = "REUNIFY_DATABASE_POOL_SIZE",
        default_value_t = 10,
        global = true
    )]
    pub database_pool_size: u32,
    /// Development only: load the synthetic demo LA (999) at start unless it holds its children
    /// already (an LA registered by `token` before the first `serve` does not stop it).
    #[arg(long, env = "REUNIFY_SEED_DEMO_ON_START", global = true)]
    pub seed_demo_on_start: Option<bool>,
    /// Log format; defaults to `pretty` in development and `json` in production.
    #[arg(long, env = "REUNIFY_LOG_FORMAT", value_enum, global = true)]
    pub log_format: Option<LogFormat>,
}

/// The process arguments with the optional TOML file named by `REUNIFY_CONFIG_FILE` applied: each
/// key (a variable name without the `REUNIFY_` prefix, in any case, e.g. `listen = "0.0.0.0:8080"`)
/// becomes a flag placed before the real arguments, unless its variable is set. So flags beat
/// variables, and variables beat the file.
pub fn args_with_config_file() -> Result<Vec<std::ffi::OsString>, String> {
    let mut args: Vec<std::ffi::OsString> = std::env::args_os().collect();
    let Some(path) = std::env::var_os("REUNIFY_CONFIG_FILE") else {
        return Ok(args);
    };
    let text = std::fs::read_to_string(&path)
        .map_err(|e| format!("REUNIFY_CONFIG_FILE: cannot read: {e}"))?;
    let mut from_file = Vec::new();
    for (name, value) in config_file_vars(&text)? {
        if std::env::var_os(&name).is_some() {
            continue;
        }
        let flag = format!(
            "--{}",
            name.trim_start_matches("REUNIFY_")
                .to_ascii_lowercase()
                .replace('_', "-")
        );
        match value.as_str() {
            "true" if flag == "--migrate-on-start" => from_file.push(flag.into()),
            "false" if flag == "--migrate-on-start" => {}
            _ => {
                from_file.push(flag.into());
                from_file.push(value.into());
            }
        }
    }
    let rest = args.split_off(1.min(args.len()));
    args.extend(from_file);
    args.extend(rest);
    Ok(args)
}

/// The `REUNIFY_*` variables a TOML configuration file sets.
pub fn config_file_vars(text: &str) -> Result<Vec<(String, String)>, String> {
    let table: toml::Table = text
        .parse()
        .map_err(|e| format!("REUNIFY_CONFIG_FILE: not valid TOML: {e}"))?;
    table
        .into_iter()
        .map(|(key, value)| {
            let name = format!("REUNIFY_{}", key.to_ascii_uppercase().replace('-', "_"));
            let value = match value {
                toml::Value::String(s) => s,
                toml::Value::Integer(i) => i.to_string(),
                toml::Value::Boolean(b) => b.to_string(),
                toml::Value::Float(f) => f.to_string(),
                _ => {
                    return Err(format!(
                        "REUNIFY_CONFIG_FILE: `{key}` must be a string, number or boolean"
                    ));
                }
            };
            Ok((name, value))
        })
        .collect()
}

/// One line naming the variable (and flag) whose value is bad, without echoing secret values.
pub fn describe_bad_value(err: &clap::Error) -> String {
    use clap::CommandFactory as _;
    use clap::error::ContextKind;
    let arg = err
        .get(ContextKind::InvalidArg)
        .map(ToString::to_string)
        .unwrap_or_default();
    let long = arg
        .trim_start_matches("--")
        .split(' ')
        .next()
        .unwrap_or_default()
        .to_owned();
    let cmd = Cli::command();
    let env = cmd
        .get_arguments()
        .find(|a| a.get_long() == Some(long.as_str()))
        .and_then(|a| a.get_env())
        .map(|e| e.to_string_lossy().into_owned());
    let reason = err
        .get(ContextKind::Custom)
        .map(|c| format!(": {c}"))
        .unwrap_or_default();
    match env {
        Some(env) => format!("invalid value for {env} (--{long}){reason}"),
        None => format!("invalid value for --{long}{reason}"),
    }
}

fn parse_secret(s: &str) -> Result<SecretString, String> {
    if s.trim().is_empty() {
        return Err("must not be empty".to_owned());
    }
    Ok(SecretString::from(s.to_owned()))
}

impl Config {
    /// Where webhooks may be delivered in this configuration.
    pub fn webhook_policy(&self) -> crate::webhooks::service::Policy {
        let development = self.mode == Mode::Development;
        crate::webhooks::service::Policy {
            allow_private: self.webhook_allow_private.unwrap_or(development),
            allow_http: development,
        }
    }

    /// Checks combinations that clap cannot; the message names the variable at fault.
    pub fn validate(&self) -> Result<(), String> {
        if self.mode == Mode::Production && self.issuers_file.is_none() && self.jwks_file.is_none()
        {
            return Err(
                "REUNIFY_ISSUERS_FILE (or REUNIFY_JWKS_FILE) is required in production mode"
                    .to_owned(),
            );
        }
        if self.jwks_file.is_some() != self.token_issuer.is_some() {
            return Err(
                "REUNIFY_JWKS_FILE and REUNIFY_TOKEN_ISSUER are set together or not at all"
                    .to_owned(),
            );
        }
        if self.database_statement_timeout_ms == 0 {
            return Err("REUNIFY_DATABASE_STATEMENT_TIMEOUT_MS must be at least 1".to_owned());
        }
        for origin in &self.cors_origins {
            let ok = (origin.starts_with("https://") || origin.starts_with("http://"))
                && !origin.contains('*')
                && !origin.ends_with('/')
                && axum::http::HeaderValue::from_str(origin).is_ok();
            if !ok {
                return Err(format!(
                    "REUNIFY_CORS_ORIGINS: `{origin}` is not an origin like https://portal.example"
                ));
            }
        }
        for (name, value) in [
            ("REUNIFY_MAX_BATCH", self.max_batch as u64),
            ("REUNIFY_REQUEST_TIMEOUT_MS", self.request_timeout_ms),
            ("REUNIFY_MAX_FIELDS", self.max_fields as u64),
        ] {
            if value == 0 {
                return Err(format!("{name} must be at least 1"));
            }
        }
        if self.max_query_depth == 0 {
            return Err("REUNIFY_MAX_QUERY_DEPTH must be at least 1".to_owned());
        }
        Ok(())
    }

    /// Whether to load the demo LA into an empty database at start.
    pub fn seed_demo(&self) -> bool {
        self.mode == Mode::Development && self.seed_demo_on_start.unwrap_or(true)
    }

    /// Whether introspection and field suggestions are on.
    pub fn introspection(&self) -> bool {
        self.introspection.unwrap_or(self.mode == Mode::Development)
    }

    /// The statement timeout.
    pub fn statement_timeout(&self) -> std::time::Duration {
        std::time::Duration::from_millis(self.database_statement_timeout_ms)
    }

    /// Whether the configured database is SQLite.
    pub fn is_sqlite(&self) -> bool {
        use secrecy::ExposeSecret as _;
        self.database_url.expose_secret().starts_with("sqlite:")
    }

    /// A configuration with defaults and the given database, for tests and tools.
    pub fn for_database(url: &str) -> Self {
        let mut cli = Cli::parse_from(["reunify"]);
        cli.config.database_url = SecretString::from(url.to_owned());
        cli.config.seed_demo_on_start = Some(false);
        cli.config
    }
}

/// The configuration reference, `docs/configuration.md`: every `REUNIFY_*` variable with its flag,
/// default and meaning, read from [`Config`] itself so the two cannot drift.
pub fn reference() -> String {
    use clap::CommandFactory as _;
    let command = Cli::command();
    let mut out = String::from(
        "# Configuration reference\n\n\
         Generated from the configuration type by `reunify config-reference > docs/configuration.md`;\n\
         a test fails when this file and the code disagree.\n\n\
         Every setting is read once at start from its `REUNIFY_*` variable, or from its flag, or\n\
         from the TOML file named by `REUNIFY_CONFIG_FILE` (keys are the variable names without\n\
         `REUNIFY_`); a flag beats the variable, and the variable beats the file. A bad value stops\n\
         the start with a message naming the variable.\n\n\
         | Variable | Flag | Default | Meaning |\n|---|---|---|---|\n",
    );
    for arg in command.get_arguments() {
        let Some(env) = arg.get_env() else { continue };
        let flag = arg
            .get_long()
            .map(|l| format!("`--{l}`"))
            .unwrap_or_default();
        let defaults: Vec<String> = arg
            .get_default_values()
            .iter()
            .map(|v| v.to_string_lossy().into_owned())
            .collect();
        let default = if defaults.is_empty() {
            "–".to_owned()
        } else {
            format!("`{}`", defaults.join(","))
        };
        let mut meaning = arg
            .get_long_help()
            .or_else(|| arg.get_help())
            .map(|h| h.to_string().replace('\n', " "))
            .unwrap_or_default();
        if !meaning.is_empty() && !meaning.ends_with('.') {
            meaning.push('.');
        }
        let values: Vec<String> = arg
            .get_possible_values()
            .iter()
            .map(|v| format!("`{}`", v.get_name()))
            .collect();
        if !values.is_empty() {
            meaning.push_str(&format!(" One of {}.", values.join(", ")));
        }
        out.push_str(&format!(
            "| `{}` | {flag} | {default} | {} |\n",
            env.to_string_lossy(),
            meaning.replace('|', "\\|")
        ));
    }
    out.push_str(
        "\n## OpenTelemetry\n\n\
         Traces use the standard variables of the OpenTelemetry SDK: `OTEL_EXPORTER_OTLP_ENDPOINT`\n\
         (or `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`; no endpoint, no export), `OTEL_SERVICE_NAME`\n\
         (default `reunify`), `OTEL_EXPORTER_OTLP_HEADERS`, `OTEL_EXPORTER_OTLP_TIMEOUT`,\n\
         `OTEL_SDK_DISABLED`. The exporter speaks OTLP over HTTP (protobuf). `RUST_LOG` filters the\n\
         logs (default `info`); spans are exported at `info` and above whatever it says.\n",
    );
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn config_file_keys_become_variables() {
        let vars = config_file_vars(
            "listen = \"0.0.0.0:9000\"\nmax-query-depth = 12\nmigrate_on_start = true\n",
        )
        .unwrap();
        assert!(vars.contains(&("REUNIFY_LISTEN".to_owned(), "0.0.0.0:9000".to_owned())));
        assert!(vars.contains(&("REUNIFY_MAX_QUERY_DEPTH".to_owned(), "12".to_owned())));
        assert!(vars.contains(&("REUNIFY_MIGRATE_ON_START".to_owned(), "true".to_owned())));
        assert!(config_file_vars("listen = [1]").is_err());
        assert!(config_file_vars("not toml").is_err());
    }

    #[test]
    fn bad_values_name_the_variable() {
        let err = Cli::try_parse_from(["reunify", "--listen", "nowhere"]).unwrap_err();
        assert_eq!(
            describe_bad_value(&err),
            "invalid value for REUNIFY_LISTEN (--listen)"
        );
        let err = Cli::try_parse_from(["reunify", "--mode", "staging"]).unwrap_err();
        assert!(describe_bad_value(&err).starts_with("invalid value for REUNIFY_MODE"));
        let mut config = Config::for_database("sqlite::memory:");
        config.mode = Mode::Production;
        assert!(
            config
                .validate()
                .unwrap_err()
                .contains("REUNIFY_ISSUERS_FILE")
        );
    }
}
