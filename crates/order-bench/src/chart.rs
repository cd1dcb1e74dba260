//! The run as one SVG picture: throughput and p99 of every scenario, HTTP
//! beside the raw mirror and the limit baseline (median runs), and the
//! connection sweep as throughput/latency curves of GET and create.
//!
//! Drawn with `plotters`' SVG backend only: no font or system library is
//! needed, the viewer renders the text.

use std::path::Path;

use anyhow::Context;
use plotters::coord::types::RangedCoordf64;
use plotters::coord::Shift;
use plotters::prelude::*;

use crate::report::{Measurement, Report, Side};
use crate::scenario::Scenario;

/// Colours of the three sides, the same in every panel.
fn colour(side: Side) -> RGBColor {
    match side {
        Side::Http => RGBColor(0x1f, 0x77, 0xb4),
        Side::Raw => RGBColor(0xff, 0x7f, 0x0e),
        Side::Limit => RGBColor(0x2c, 0xa0, 0x2c),
    }
}

const SIDES: [Side; 3] = [Side::Http, Side::Raw, Side::Limit];

/// Writes the chart of `report` to `path`.
///
/// # Errors
/// When the folder or the file cannot be written.
pub fn write(report: &Report, path: &Path) -> anyhow::Result<()> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    }
    let title = format!(
        "Order Management benchmark, {} ({} connections, median of {} round(s); load {} -> {})",
        report.started_at.format("%Y-%m-%d %H:%M UTC"),
        report.concurrency,
        report.runs,
        report.machine.load_at_start,
        report.machine.load_at_end,
    );
    let svg = render(&title, &report.medians, &report.sweep)?;
    std::fs::write(path, svg).with_context(|| format!("cannot write {}", path.display()))
}

/// The chart as SVG text.
fn render(title: &str, medians: &[Measurement], sweep: &[Measurement]) -> anyhow::Result<String> {
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (1400, 1000)).into_drawing_area();
        draw(title, medians, sweep, &root)
            .map_err(|e| anyhow::anyhow!("drawing the chart: {e}"))?;
        root.present()
            .map_err(|e| anyhow::anyhow!("drawing the chart: {e}"))?;
    }
    Ok(svg)
}

type Area<'a> = DrawingArea<SVGBackend<'a>, Shift>;
type DrawResult = Result<(), Box<dyn std::error::Error>>;

fn draw(
    title: &str,
    medians: &[Measurement],
    sweep: &[Measurement],
    root: &Area<'_>,
) -> DrawResult {
    root.fill(&WHITE)?;
    let root = root.titled(title, ("sans-serif", 20))?;
    let (top, bottom) = root.split_vertically(520);
    let (throughput, p99) = top.split_horizontally(700);
    let (get, create) = bottom.split_horizontally(700);
    bars(&throughput, medians, "operations per second (log)", |m| {
        m.per_sec
    })?;
    bars(&p99, medians, "p99 latency, ms (log)", |m| m.latency_ms.p99)?;
    curve(&get, sweep, Scenario::Get)?;
    curve(&create, sweep, Scenario::Create)?;
    Ok(())
}

/// Grouped bars per scenario, one per side, on a log scale.
fn bars(
    area: &Area<'_>,
    medians: &[Measurement],
    caption: &str,
    value: impl Fn(&Measurement) -> f64,
) -> DrawResult {
    let mut scenarios: Vec<Scenario> = medians.iter().map(|m| m.scenario).collect();
    scenarios.sort_by_key(|s| s.report_rank());
    scenarios.dedup();
    let values: Vec<f64> = medians.iter().map(&value).filter(|v| *v > 0.0).collect();
    let low = values
        .iter()
        .copied()
        .fold(f64::INFINITY, f64::min)
        .min(1.0)
        / 2.0;
    let high = values.iter().copied().fold(0.0, f64::max).max(10.0) * 2.0;
    let n = scenarios.len().max(1) as f64;
    let mut chart = ChartBuilder::on(area)
        .caption(caption, ("sans-serif", 18))
        .margin(10)
        .x_label_area_size(40)
        .y_label_area_size(60)
        .build_cartesian_2d(-0.5..n - 0.5, (low..high).log_scale())?;
    // Short names: nine of them fit side by side without rotating any.
    let names: Vec<&'static str> = scenarios.iter().map(|s| short_name(*s)).collect();
    chart
        .configure_mesh()
        .disable_x_mesh()
        .x_labels(scenarios.len() * 2 + 1)
        .x_label_formatter(&|x: &f64| {
            let i = x.round();
            if (x - i).abs() < 1e-6 && i >= 0.0 {
                names.get(i as usize).copied().unwrap_or("").to_owned()
            } else {
                String::new()
            }
        })
        .x_label_style(("sans-serif", 11))
        .y_label_formatter(&|y: &f64| format!("{y}"))
        .draw()?;
    let width = 0.8 / SIDES.len() as f64;
    for (k, side) in SIDES.into_iter().enumerate() {
        let bars: Vec<Rectangle<(f64, f64)>> = scenarios
            .iter()
            .enumerate()
            .filter_map(|(i, scenario)| {
                let m = medians
                    .iter()
                    .find(|m| m.scenario == *scenario && m.side == side)?;
                let v = value(m);
                (v > 0.0).then(|| {
                    let x = i as f64 - 0.4 + k as f64 * width;
                    Rectangle::new([(x, low), (x + width, v)], colour(side).filled())
                })
            })
            .collect();
        if bars.is_empty() {
            continue;
        }
        chart
            .draw_series(bars)?
            .label(side.name())
            .legend(move |(x, y)| {
                Rectangle::new([(x, y - 5), (x + 10, y + 5)], colour(side).filled())
            });
    }
    chart
        .configure_series_labels()
        .background_style(WHITE.mix(0.8))
        .border_style(BLACK)
        .position(SeriesLabelPosition::UpperRight)
        .draw()?;
    Ok(())
}

fn short_name(scenario: Scenario) -> &'static str {
    match scenario {
        Scenario::Lifecycle => "lifecycle",
        Scenario::Create => "create",
        Scenario::Get => "get",
        Scenario::ListFirst => "list 1st",
        Scenario::ListMiddle => "list mid",
        Scenario::ListDeep => "list deep",
        Scenario::CustomerFirst => "cust 1st",
        Scenario::CustomerMiddle => "cust mid",
        Scenario::CustomerDeep => "cust deep",
    }
}

/// Throughput (x) against p99 (y) of `scenario` at each connection count of
/// the sweep, one line per side, each point labelled with its count.
fn curve(area: &Area<'_>, sweep: &[Measurement], scenario: Scenario) -> DrawResult {
    let points: Vec<&Measurement> = sweep
        .iter()
        .filter(|m| m.scenario == scenario && m.per_sec > 0.0)
        .collect();
    let caption = format!(
        "{}: p99 ms (log) against {} over the connection sweep",
        scenario.name(),
        scenario.unit()
    );
    if points.is_empty() {
        area.titled(&format!("{caption}: not run"), ("sans-serif", 16))?;
        return Ok(());
    }
    let max_x = points.iter().map(|m| m.per_sec).fold(0.0, f64::max) * 1.15;
    let low_y = points
        .iter()
        .map(|m| m.latency_ms.p99)
        .fold(f64::INFINITY, f64::min)
        .max(0.01)
        / 2.0;
    let high_y = points.iter().map(|m| m.latency_ms.p99).fold(0.0, f64::max) * 2.0;
    let mut chart: ChartContext<'_, SVGBackend<'_>, Cartesian2d<RangedCoordf64, _>> =
        ChartBuilder::on(area)
            .caption(caption, ("sans-serif", 16))
            .margin(10)
            .x_label_area_size(40)
            .y_label_area_size(60)
            .build_cartesian_2d(0.0..max_x, (low_y..high_y.max(low_y * 4.0)).log_scale())?;
    chart
        .configure_mesh()
        .x_desc(scenario.unit())
        .y_desc("p99 ms")
        .y_label_formatter(&|y: &f64| format!("{y}"))
        .draw()?;
    for side in [Side::Http, Side::Limit] {
        let mut line: Vec<(f64, f64, usize)> = points
            .iter()
            .filter(|m| m.side == side)
            .map(|m| (m.per_sec, m.latency_ms.p99, m.concurrency))
            .collect();
        if line.is_empty() {
            continue;
        }
        line.sort_by_key(|p| p.2);
        let style = colour(side);
        chart
            .draw_series(LineSeries::new(
                line.iter().map(|p| (p.0, p.1)),
                style.stroke_width(2),
            ))?
            .label(side.name())
            .legend(move |(x, y)| PathElement::new([(x, y), (x + 15, y)], style.stroke_width(2)));
        chart.draw_series(line.iter().map(|p| {
            EmptyElement::at((p.0, p.1))
                + Circle::new((0, 0), 4, style.filled())
                + Text::new(format!("{}", p.2), (6, -14), ("sans-serif", 12))
        }))?;
    }
    chart
        .configure_series_labels()
        .background_style(WHITE.mix(0.8))
        .border_style(BLACK)
        .position(SeriesLabelPosition::UpperLeft)
        .draw()?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use hdrhistogram::Histogram;

    use super::*;
    use crate::load::Outcome;
    use crate::probe::WindowUse;

    fn run(scenario: Scenario, side: Side, concurrency: usize, ops: u64, us: u64) -> Measurement {
        let mut latency_us = Histogram::new_with_bounds(1, 60_000_000, 3).unwrap();
        for _ in 0..ops {
            latency_us.record(us).unwrap();
        }
        let outcome = Outcome {
            ops,
            errors: 0,
            first_error: None,
            window: Duration::from_secs(1),
            latency_us,
        };
        Measurement::new(
            scenario,
            side,
            concurrency,
            String::new(),
            &outcome,
            WindowUse::default(),
        )
    }

    #[test]
    fn the_chart_has_a_bar_per_side_and_a_point_per_connection_count() {
        let medians = vec![
            run(Scenario::Get, Side::Http, 32, 5_000, 4_000),
            run(Scenario::Get, Side::Raw, 32, 9_000, 2_000),
            run(Scenario::Get, Side::Limit, 32, 12_000, 1_500),
            run(Scenario::ListFirst, Side::Http, 32, 900, 30_000),
        ];
        let sweep: Vec<Measurement> = [1, 8, 32, 128]
            .into_iter()
            .flat_map(|c| {
                [
                    run(
                        Scenario::Get,
                        Side::Http,
                        c,
                        1_000 * c as u64,
                        500 * c as u64,
                    ),
                    run(
                        Scenario::Create,
                        Side::Limit,
                        c,
                        100 * c as u64,
                        900 * c as u64,
                    ),
                ]
            })
            .collect();
        let svg = render("test", &medians, &sweep).unwrap();
        assert!(svg.starts_with("<svg"), "{}", &svg[..40]);
        // The SVG backend puts each text on a line of its own.
        for text in ["get", "list 1st", "http", "raw", "limit", "128", "32"] {
            assert!(
                svg.lines().any(|line| line.trim() == text),
                "no text {text:?} in the chart"
            );
        }
        // One bar per measured side and scenario (4), in the sides' colours.
        let bars = svg.matches("fill=\"#2CA02C\"").count();
        assert!(bars >= 2, "limit bars and points: {bars}");
    }
}
