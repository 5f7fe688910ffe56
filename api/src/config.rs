//! Typed configuration from `REUNIFY_*` environment variables (or flags), read once at start.

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::{Parser, Subcommand, ValueEnum};
use secrecy::SecretString;

/// Reunify: the NSPCC Reunification Practice Framework as a GraphQL service.
#[derive(Parser, Debug, Clone)]
#[command(name = "reunify", version, about)]
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
    /// Development only: print a signed bearer token.
    Token(TokenArgs),
    /// Load the small, fully synthetic demo local authority (DfE code 999).
    SeedDemo,
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
    /// Production: path to a JSON Web Key Set file with the token issuer's public keys.
    #[arg(long, env = "REUNIFY_JWKS_FILE", global = true)]
    pub jwks_file: Option<PathBuf>,
    /// Expected `iss` of bearer tokens (production; development uses `reunify-development`).
    #[arg(long, env = "REUNIFY_TOKEN_ISSUER", global = true)]
    pub token_issuer: Option<String>,
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
    /// Database connection pool size.
    #[arg(
        long,
        env = "REUNIFY_DATABASE_POOL_SIZE",
        default_value_t = 10,
        global = true
    )]
    pub database_pool_size: u32,
    /// Log format; defaults to `pretty` in development and `json` in production.
    #[arg(long, env = "REUNIFY_LOG_FORMAT", value_enum, global = true)]
    pub log_format: Option<LogFormat>,
}

fn parse_secret(s: &str) -> Result<SecretString, String> {
    if s.trim().is_empty() {
        return Err("must not be empty".to_owned());
    }
    Ok(SecretString::from(s.to_owned()))
}

impl Config {
    /// Checks combinations that clap cannot; the message names the variable at fault.
    pub fn validate(&self) -> Result<(), String> {
        if self.mode == Mode::Production {
            if self.jwks_file.is_none() {
                return Err("REUNIFY_JWKS_FILE is required in production mode".to_owned());
            }
            if self.token_issuer.is_none() {
                return Err("REUNIFY_TOKEN_ISSUER is required in production mode".to_owned());
            }
        }
        if self.max_query_depth == 0 {
            return Err("REUNIFY_MAX_QUERY_DEPTH must be at least 1".to_owned());
        }
        Ok(())
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
        cli.config
    }
}
