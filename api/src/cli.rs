//! The `reunify` command line: serve | migrate | schema | token | seed-demo | insight | purge.

use std::process::ExitCode;
use std::sync::Arc;

use crate::config::{Cli, Command, Mode};
use clap::Parser as _;

/// Runs the command line (`reunify`'s `main`).
pub fn main() -> ExitCode {
    let cli = match crate::config::args_with_config_file().map(Cli::try_parse_from) {
        Ok(Ok(cli)) => cli,
        Ok(Err(e))
            if e.kind() == clap::error::ErrorKind::ValueValidation
                || e.kind() == clap::error::ErrorKind::InvalidValue =>
        {
            eprintln!("reunify: {}", crate::config::describe_bad_value(&e));
            return ExitCode::FAILURE;
        }
        Ok(Err(e)) => e.exit(),
        Err(e) => {
            eprintln!("reunify: {e}");
            return ExitCode::FAILURE;
        }
    };
    // The trace pipeline is built, and shut down (flushing spans), outside the async runtime.
    let traces = match crate::telemetry::provider_from_env() {
        Ok(t) => t,
        Err(e) => {
            eprintln!("reunify: {e}");
            return ExitCode::FAILURE;
        }
    };
    // A long-running command logs what it does; a one-shot one (`token`, `schema`, …) prints its
    // answer and stays quiet unless something is wrong (or `RUST_LOG` asks for more).
    let level = match cli.command {
        None | Some(Command::Serve | Command::Migrate | Command::Purge(_)) => "info",
        Some(_) => "warn",
    };
    crate::telemetry::init(&cli.config, traces.as_ref(), level);
    let result = match tokio::runtime::Runtime::new() {
        Ok(runtime) => runtime.block_on(run(cli)),
        Err(e) => Err(anyhow::anyhow!("cannot start the async runtime: {e}")),
    };
    if let Some(traces) = traces
        && let Err(e) = traces.shutdown()
    {
        eprintln!("reunify: flushing traces failed: {e}");
    }
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("reunify: {e}");
            ExitCode::FAILURE
        }
    }
}

async fn run(cli: Cli) -> anyhow::Result<()> {
    let config = cli.config;
    match cli.command.unwrap_or(Command::Serve) {
        Command::Serve => {
            let server = crate::server::build(config).await?;
            tracing::info!(listen = %server.local_addr()?, "reunify is serving");
            server.run().await
        }
        Command::Migrate => {
            crate::server::migrate(&config).await?;
            println!("migrations applied");
            Ok(())
        }
        Command::Healthcheck => {
            // A wildcard listen address is reached on loopback.
            let mut addr = config.listen;
            if addr.ip().is_unspecified() {
                addr.set_ip(std::net::Ipv4Addr::LOCALHOST.into());
            }
            let answer = reqwest::Client::builder()
                .timeout(std::time::Duration::from_secs(3))
                .build()?
                .get(format!("http://{addr}/healthz"))
                .send()
                .await?;
            if !answer.status().is_success() {
                anyhow::bail!("/healthz answered {}", answer.status());
            }
            Ok(())
        }
        Command::ConfigReference => {
            print!("{}", crate::config::reference());
            Ok(())
        }
        Command::Schema => {
            print!("{}", crate::schema::sdl());
            Ok(())
        }
        Command::Rules => {
            print!("{}", crate::framework::table::markdown());
            Ok(())
        }
        Command::Token(args) => {
            if config.mode != Mode::Development {
                anyhow::bail!("`token` is available in development mode only (REUNIFY_MODE)");
            }
            // Under the start-up lock: a `serve` starting at the same moment does not create a
            // second development key, or register LA 999 twice.
            let token = crate::server::migrated_once(&config, async |db| {
                crate::seed::dev_token(db, &config, &args).await
            })
            .await?;
            println!("{token}");
            Ok(())
        }
        Command::SeedDemo => {
            let summary =
                crate::server::migrated_once(&config, async |db| crate::seed::demo(db).await)
                    .await?;
            println!("{summary}");
            Ok(())
        }
        Command::Insight(args) => {
            use std::io::Write as _;
            let query = crate::insight::export::parse_query(
                args.from.as_deref(),
                args.to.as_deref(),
                args.as_of.as_deref(),
                args.group_by.as_deref(),
            )
            .map_err(|m| anyhow::anyhow!("{m}"))?;
            let db = crate::server::connect(&config, Arc::default()).await?;
            let only = (!args.las.is_empty()).then_some(args.las.as_slice());
            let facts =
                crate::insight::service::facts_of_las(&db, only, config.statement_timeout())
                    .await
                    .map_err(|e| anyhow::anyhow!("reading the case facts failed: {e:?}"))?;
            let shown = crate::insight::aggregates::Presentation {
                suppress: true,
                round_to_10: args.round_to_nearest_10,
            };
            let mut out = std::io::stdout().lock();
            let mut lines =
                std::pin::pin!(crate::insight::export::insight_jsonl(facts, query, shown));
            while let Some(chunk) = futures_util::StreamExt::next(&mut lines).await {
                out.write_all(&chunk?)?;
            }
            Ok(())
        }
        Command::Purge(args) => {
            let db = crate::server::connect(&config, Arc::default()).await?;
            let today = args.today.unwrap_or_else(crate::cases::service::today);
            let report = crate::retention::service::purge(
                &db,
                config.statement_timeout(),
                today,
                args.dry_run,
            )
            .await
            .map_err(|e| {
                anyhow::anyhow!("purge failed, nothing of the failing LA removed: {e:?}")
            })?;
            let verb = if args.dry_run {
                "would purge"
            } else {
                "purged"
            };
            for la in report {
                println!(
                    "LA {}: {verb} {} child record(s) past retention on {today}; {} kept on legal hold",
                    la.la, la.purged, la.held
                );
            }
            Ok(())
        }
    }
}
