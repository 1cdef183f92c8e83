//! `oewsprobe report --html FILE`: the status page (overview, every probe, SLOs, release) read from the store
//! (also while the daemon runs) and written as one self-contained HTML file.

use crate::cli::ReportArgs;
use crate::exit::Exit;
use crate::page::PageConfig;
use crate::store::Store;

pub fn run(args: &ReportArgs) -> Exit {
    let sources = super::sources(&args.config, None);
    let plan = match crate::config::load_for_store(&sources) {
        Ok(plan) => plan,
        Err(errors) => {
            eprintln!("{errors}");
            return Exit::CouldNotCheck;
        }
    };
    let config = PageConfig::of(&plan);
    let window_ms = u64::try_from(args.window.as_millis()).unwrap_or(u64::MAX);
    let page = Store::open_at(&plan.settings.run.store).and_then(|store| {
        store.naming_damage(|store| {
            let facts = crate::happened::page_facts(
                store,
                &config.query(window_ms, &config.probes),
                crate::monitor::now_ms(),
            )?;
            Ok(crate::page::build(&facts, &config.infos))
        })
    });
    let page = match page {
        Ok(page) => page,
        Err(e) => {
            eprintln!("oewsprobe report: {e}");
            return Exit::CouldNotCheck;
        }
    };
    let html = crate::page::pages::report(&page);
    match std::fs::write(&args.html, &html) {
        Ok(()) => {
            super::emit(&format!(
                "oewsprobe report: wrote {} ({} bytes, {} probes)\n",
                args.html.display(),
                html.len(),
                page.probes.len()
            ));
            Exit::Healthy
        }
        Err(e) => {
            eprintln!("oewsprobe report: --html {}: {e}", args.html.display());
            Exit::CouldNotCheck
        }
    }
}
