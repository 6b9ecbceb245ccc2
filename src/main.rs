//! The `hallway` binary: parses the command and hands over to the library.

use std::process::ExitCode;

use hallway::{Application, Config, db, http, telemetry, worker};

const USAGE: &str = "usage: hallway [serve | migrate | openapi | worker | dead-letters]

  serve         run the HTTP API (and the mail worker) on HALLWAY_LISTEN (default)
  migrate       apply pending database migrations and exit
  openapi       print the OpenAPI document as JSON
  worker        run only the background worker (outbox)
  dead-letters  print the emails the worker gave up (newest 1,000), one JSON object a line

Configuration comes from environment variables; see README.md.";

#[actix_web::main]
async fn main() -> ExitCode {
    let command = std::env::args().nth(1).unwrap_or_else(|| "serve".to_owned());
    if command == "openapi" {
        println!("{}", http::openapi_json());
        return ExitCode::SUCCESS;
    }
    if !matches!(command.as_str(), "serve" | "migrate" | "worker" | "dead-letters") {
        eprintln!("{USAGE}");
        return ExitCode::from(2);
    }
    telemetry::init();
    match run(&command).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            tracing::error!("{error:#}");
            ExitCode::FAILURE
        }
    }
}

async fn run(command: &str) -> anyhow::Result<()> {
    let config = Config::from_env()?;
    match command {
        "migrate" => {
            let pool = db::connect(&config.database_url, 1)?;
            db::migrate(&pool)?;
            tracing::info!("migrations applied");
            Ok(())
        }
        "dead-letters" => {
            let pool = db::connect(&config.database_url, 1)?;
            for letter in worker::dead_letters(&pool, 1000)? {
                println!("{letter}");
            }
            Ok(())
        }
        "worker" => {
            let pool = db::connect(&config.database_url, 2)?;
            db::migrate(&pool)?;
            worker::run_forever(pool, &config).await
        }
        _ => {
            let app = Application::build(config).await?;
            tracing::info!(
                "Hallway listening on http://{} (API under /v1, docs at /docs/, spec at /openapi.json)",
                app.address()
            );
            app.run_until_stopped().await
        }
    }
}
