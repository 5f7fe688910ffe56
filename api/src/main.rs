//! The `reunify` binary: serve | migrate | schema | token | seed-demo | purge.

use std::process::ExitCode;
use std::sync::Arc;

use api::config::{Cli, Command, Mode};
use clap::Parser as _;

fn main() -> ExitCode {
    let cli = match api::config::args_with_config_file().map(Cli::try_parse_from) {
        Ok(Ok(cli)) => cli,
        Ok(Err(e))
            if e.kind() == clap::error::ErrorKind::ValueValidation
                || e.kind() == clap::error::ErrorKind::InvalidValue =>
        {
            eprintln!("reunify: {}", api::config::describe_bad_value(&e));
            return ExitCode::FAILURE;
        }
        Ok(Err(e)) => e.exit(),
        Err(e) => {
            eprintln!("reunify: {e}");
            return ExitCode::FAILURE;
        }
    };
    // The trace pipeline is built, and shut down (flushing spans), outside the async runtime.
    let traces = match api::telemetry::provider_from_env() {
        Ok(t) => t,
        Err(e) => {
            eprintln!("reunify: {e}");
            return ExitCode::FAILURE;
        }
    };
    api::telemetry::init(&cli.config, traces.as_ref());
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
            let server = api::server::build(config).await?;
            tracing::info!(listen = %server.local_addr()?, "reunify is serving");
            server.run().await
        }
        Command::Migrate => {
            api::server::migrate(&config).await?;
            println!("migrations applied");
            Ok(())
        }
        Command::Schema => {
            print!("{}", api::schema::sdl());
            Ok(())
        }
        Command::Token(args) => {
            if config.mode != Mode::Development {
                anyhow::bail!("`token` is available in development mode only (REUNIFY_MODE)");
            }
            api::server::migrate(&config).await?;
            let db = api::server::connect(&config, Arc::default()).await?;
            let token = api::seed::dev_token(&db, &config, &args).await?;
            println!("{token}");
            Ok(())
        }
        Command::SeedDemo => {
            api::server::migrate(&config).await?;
            let db = api::server::connect(&config, Arc::default()).await?;
            let summary = api::seed::demo(&db).await?;
            println!("{summary}");
            Ok(())
        }
        Command::Insight(args) => {
            use std::io::Write as _;
            let query = api::insight::export::parse_query(
                args.from.as_deref(),
                args.to.as_deref(),
                args.as_of.as_deref(),
                args.group_by.as_deref(),
            )
            .map_err(|m| anyhow::anyhow!("{m}"))?;
            let db = api::server::connect(&config, Arc::default()).await?;
            let only = (!args.las.is_empty()).then_some(args.las.as_slice());
            let facts = api::insight::service::facts_of_las(&db, only, config.statement_timeout())
                .await
                .map_err(|e| anyhow::anyhow!("reading the case facts failed: {e:?}"))?;
            let shown = api::insight::aggregates::Presentation {
                suppress: true,
                round_to_10: args.round_to_nearest_10,
            };
            let mut out = std::io::stdout().lock();
            let mut lines =
                std::pin::pin!(api::insight::export::insight_jsonl(facts, query, shown));
            while let Some(chunk) = futures_util::StreamExt::next(&mut lines).await {
                out.write_all(&chunk?)?;
            }
            Ok(())
        }
        Command::Purge(args) => {
            let db = api::server::connect(&config, Arc::default()).await?;
            let today = args.today.unwrap_or_else(api::cases::service::today);
            let report = api::retention::service::purge(
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
