//! Plausible OEWS wage data for a question: which areas and occupations it names, rows, SQL and prose.

use serde::Serialize;
use serde_json::{Map, Value};

/// (keyword in the question, metropolitan area title, wage factor relative to the U.S.)
const AREAS: [(&str, &str, f64); 10] = [
    ("seattle", "Seattle-Tacoma-Bellevue, WA", 1.18),
    ("san francisco", "San Francisco-Oakland-Fremont, CA", 1.30),
    ("san jose", "San Jose-Sunnyvale-Santa Clara, CA", 1.36),
    ("new york", "New York-Newark-Jersey City, NY-NJ", 1.16),
    ("austin", "Austin-Round Rock-San Marcos, TX", 1.03),
    ("boston", "Boston-Cambridge-Newton, MA-NH", 1.12),
    ("los angeles", "Los Angeles-Long Beach-Anaheim, CA", 1.09),
    (
        "washington",
        "Washington-Arlington-Alexandria, DC-VA-MD-WV",
        1.14,
    ),
    ("denver", "Denver-Aurora-Centennial, CO", 1.05),
    ("chicago", "Chicago-Naperville-Elgin, IL-IN", 1.01),
];
const NATIONAL: (&str, f64) = ("U.S.", 1.0);
/// How many areas "tech cities" questions compare when they name none.
const TECH_CITIES: usize = 5;

/// (keyword in the question, occupation title, U.S. annual mean wage)
const OCCUPATIONS: [(&str, &str, f64); 7] = [
    ("software", "Software Developers", 144_570.0),
    ("data scien", "Data Scientists", 119_040.0),
    ("nurse", "Registered Nurses", 94_480.0),
    (
        "teacher",
        "Elementary School Teachers, Except Special Education",
        70_740.0,
    ),
    ("accountant", "Accountants and Auditors", 89_290.0),
    ("electrician", "Electricians", 66_980.0),
    ("engineer", "Computer Hardware Engineers", 155_020.0),
];
const ALL_OCCUPATIONS: (&str, f64) = ("All Occupations", 67_920.0);

/// One result row, with the OEWS column names the SQL selects.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub(crate) struct WageRow {
    pub area_title: String,
    pub occ_title: String,
    pub tot_emp: u64,
    pub a_mean: u64,
    pub a_median: u64,
    pub h_mean: f64,
}

/// The areas and occupations a question is about, in the order they appear in the question.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Focus {
    areas: Vec<(&'static str, f64)>,
    occupations: Vec<(&'static str, f64)>,
}

impl Focus {
    pub(crate) fn from_question(question: &str) -> Self {
        let lower = question.to_lowercase();
        let mut areas = mentioned(&lower, &AREAS);
        if areas.is_empty() && lower.contains("cities") {
            areas = AREAS[..TECH_CITIES]
                .iter()
                .map(|&(_, title, factor)| (title, factor))
                .collect();
        }
        if areas.is_empty() {
            areas.push(NATIONAL);
        }
        let mut occupations = mentioned(&lower, &OCCUPATIONS);
        if occupations.is_empty() {
            occupations.push(ALL_OCCUPATIONS);
        }
        Focus { areas, occupations }
    }

    /// The rows the question's SQL would return: one per area and occupation.
    pub(crate) fn natural_row_count(&self) -> usize {
        self.areas.len() * self.occupations.len()
    }

    /// `count` rows, highest mean wage first (as the SQL orders them): the question's areas and
    /// occupations, then other areas when more rows are asked for (big sample bodies).
    pub(crate) fn rows(&self, count: usize) -> Vec<WageRow> {
        let others = AREAS
            .iter()
            .map(|&(_, title, factor)| (title, factor))
            .filter(|area| !self.areas.contains(area));
        let areas: Vec<(&str, f64)> = self.areas.iter().copied().chain(others).collect();
        let mut rows: Vec<WageRow> = (0..count)
            .map(|index| {
                let (occupation, base) = self.occupations[index % self.occupations.len()];
                let area_index = index / self.occupations.len();
                let (area, factor) = areas[area_index % areas.len()];
                let lap = (area_index / areas.len()) as f64;
                let mean = base * factor * (1.0 + 0.01 * lap);
                WageRow {
                    area_title: area.to_owned(),
                    occ_title: occupation.to_owned(),
                    tot_emp: (factor * 41_250.0) as u64 + 10 * index as u64,
                    a_mean: round_to_ten(mean),
                    a_median: round_to_ten(mean * 0.96),
                    h_mean: (mean / 20.8).round() / 100.0,
                }
            })
            .collect();
        rows.sort_by_key(|row| std::cmp::Reverse(row.a_mean));
        rows
    }

    /// Parameterised SQL and its parameters, as the database agent would run them.
    pub(crate) fn sql(&self, limit: usize) -> (String, Vec<Value>) {
        let placeholders = |n: usize| vec!["?"; n].join(", ");
        let sql = format!(
            "SELECT AREA_TITLE, OCC_TITLE, TOT_EMP, A_MEAN, A_MEDIAN, H_MEAN FROM oews_data \
             WHERE OCC_TITLE IN ({}) AND AREA_TITLE IN ({}) ORDER BY A_MEAN DESC LIMIT ?",
            placeholders(self.occupations.len()),
            placeholders(self.areas.len()),
        );
        let params = self
            .occupations
            .iter()
            .chain(&self.areas)
            .map(|&(title, _)| Value::from(title))
            .chain([Value::from(limit)])
            .collect();
        (sql, params)
    }

    /// The plan the planner would make for this question: keys `"1"`, `"2"`, … each
    /// `{"agent": NAME, "action": TEXT}`.
    pub(crate) fn plan(&self, charts: bool) -> Map<String, Value> {
        let mut plan = Map::new();
        let mut add = |agent: &str, action: String| {
            let key = (plan.len() + 1).to_string();
            plan.insert(key, serde_json::json!({ "agent": agent, "action": action }));
        };
        add(
            "cortex_researcher",
            format!(
                "Query OEWS wages for {} in {}",
                self.occupation_names(),
                self.area_names()
            ),
        );
        if charts {
            add(
                "chart_generator",
                "Chart annual mean wages by area".to_owned(),
            );
        }
        add(
            "synthesizer",
            "Summarize the findings for the user".to_owned(),
        );
        plan
    }

    pub(crate) fn occupation_names(&self) -> String {
        join_titles(&self.occupations)
    }

    pub(crate) fn area_names(&self) -> String {
        join_titles(&self.areas)
    }
}

fn mentioned(
    lower_question: &str,
    table: &[(&str, &'static str, f64)],
) -> Vec<(&'static str, f64)> {
    let mut found: Vec<(usize, (&'static str, f64))> = table
        .iter()
        .filter_map(|&(keyword, title, number)| {
            lower_question.find(keyword).map(|at| (at, (title, number)))
        })
        .collect();
    found.sort_by_key(|&(at, _)| at);
    found.into_iter().map(|(_, entry)| entry).collect()
}

fn join_titles(titles: &[(&str, f64)]) -> String {
    let names: Vec<&str> = titles.iter().map(|&(title, _)| title).collect();
    names.join(" and ")
}

fn round_to_ten(value: f64) -> u64 {
    ((value / 10.0).round() * 10.0) as u64
}

/// Inlines `?` placeholders with SQL literals (strings quoted, numbers as is).
pub(crate) fn inline_params(sql: &str, params: &[Value]) -> String {
    let mut parts = sql.split('?');
    let mut inlined = parts.next().unwrap_or_default().to_owned();
    for (part, param) in parts.zip(params.iter().map(Some).chain(std::iter::repeat(None))) {
        match param {
            Some(Value::String(text)) => {
                inlined.push_str(&format!("'{}'", text.replace('\'', "''")))
            }
            Some(other) => inlined.push_str(&other.to_string()),
            None => inlined.push('?'),
        }
        inlined.push_str(part);
    }
    inlined
}

/// `$144,570`.
pub(crate) fn dollars(amount: u64) -> String {
    let digits = amount.to_string();
    let mut grouped = String::new();
    for (index, digit) in digits.chars().enumerate() {
        if index > 0 && (digits.len() - index) % 3 == 0 {
            grouped.push(',');
        }
        grouped.push(digit);
    }
    format!("${grouped}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn focus_follows_the_question() {
        let focus =
            Focus::from_question("Compare software developer salaries in Seattle vs San Francisco");
        assert_eq!(
            focus.area_names(),
            "Seattle-Tacoma-Bellevue, WA and San Francisco-Oakland-Fremont, CA"
        );
        assert_eq!(focus.occupation_names(), "Software Developers");
        assert_eq!(focus.natural_row_count(), 2);
        let vague = Focus::from_question("What are the top 5 highest paying occupations?");
        assert_eq!(
            (
                vague.area_names().as_str(),
                vague.occupation_names().as_str()
            ),
            ("U.S.", "All Occupations")
        );
        assert_eq!(
            Focus::from_question("top 10 tech cities").natural_row_count(),
            TECH_CITIES
        );
    }

    #[test]
    fn rows_start_with_the_question_and_come_highest_wage_first() {
        let focus = Focus::from_question("software salaries in Seattle and Austin");
        let rows = focus.rows(2);
        let areas: Vec<&str> = rows.iter().map(|row| row.area_title.as_str()).collect();
        assert_eq!(
            areas,
            [
                "Seattle-Tacoma-Bellevue, WA",
                "Austin-Round Rock-San Marcos, TX"
            ]
        );
        assert_eq!(rows[0].a_mean, 170_590);
        let many = focus.rows(25);
        assert_eq!(many.len(), 25);
        assert!(many.windows(2).all(|pair| pair[0].a_mean >= pair[1].a_mean));
        assert!(
            many.iter().any(|row| row.area_title.starts_with("Chicago")),
            "other areas fill big bodies"
        );
    }

    #[test]
    fn sql_is_parameterised_and_can_be_inlined() {
        let focus = Focus::from_question("nurse pay in Boston");
        let (sql, params) = focus.sql(10);
        assert!(sql.ends_with(
            "WHERE OCC_TITLE IN (?) AND AREA_TITLE IN (?) ORDER BY A_MEAN DESC LIMIT ?"
        ));
        assert_eq!(
            params,
            vec![
                Value::from("Registered Nurses"),
                Value::from("Boston-Cambridge-Newton, MA-NH"),
                Value::from(10)
            ]
        );
        assert!(inline_params(&sql, &params).ends_with(
            "WHERE OCC_TITLE IN ('Registered Nurses') AND AREA_TITLE IN ('Boston-Cambridge-Newton, MA-NH') ORDER BY A_MEAN DESC LIMIT 10"
        ));
        assert_eq!(
            inline_params("a = ? AND b = ?", &[Value::from("it's")]),
            "a = 'it''s' AND b = ?"
        );
    }

    #[test]
    fn dollars_group_thousands() {
        assert_eq!(dollars(0), "$0");
        assert_eq!(dollars(999), "$999");
        assert_eq!(dollars(144_570), "$144,570");
        assert_eq!(dollars(1_234_567), "$1,234,567");
    }
}
