//! The words of published outputs in Finnish, Swedish and English: sheet names, column
//! headers, statistics, flags, footnotes and the methods text. Numbers are never formatted
//! here for the workbook (Excel formats them in the reader's locale); report drafts format them
//! with [`Lang::number`].

/// An output language.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Lang {
    Fi,
    Sv,
    En,
}

impl Lang {
    /// `fi`, `sv` or `en`.
    pub fn parse(code: &str) -> Option<Lang> {
        match code {
            "fi" => Some(Lang::Fi),
            "sv" => Some(Lang::Sv),
            "en" => Some(Lang::En),
            _ => None,
        }
    }

    pub fn code(self) -> &'static str {
        match self {
            Lang::Fi => "fi",
            Lang::Sv => "sv",
            Lang::En => "en",
        }
    }

    /// Picks the text of this language.
    pub fn pick(self, fi: &'static str, sv: &'static str, en: &'static str) -> &'static str {
        match self {
            Lang::Fi => fi,
            Lang::Sv => sv,
            Lang::En => en,
        }
    }

    /// A number with `decimals` decimals: decimal comma in Finnish and Swedish, a minus sign
    /// (U+2212) for negatives, and a narrow no-break space between thousands in fi/sv.
    pub fn number(self, x: f64, decimals: usize) -> String {
        if !x.is_finite() {
            return String::new();
        }
        let text = format!("{:.*}", decimals, x.abs());
        let (int, frac) = match text.split_once('.') {
            Some((i, f)) => (i.to_string(), Some(f.to_string())),
            None => (text.clone(), None),
        };
        let sep = match self {
            Lang::En => ",",
            _ => "\u{202f}",
        };
        let mut grouped = String::new();
        for (k, ch) in int.chars().enumerate() {
            if k > 0 && (int.len() - k) % 3 == 0 {
                grouped.push_str(sep);
            }
            grouped.push(ch);
        }
        let point = if self == Lang::En { "." } else { "," };
        let body = match frac {
            Some(f) => format!("{grouped}{point}{f}"),
            None => grouped,
        };
        // A value that rounds to zero has no sign.
        let negative = x < 0.0 && body.chars().any(|c| c.is_ascii_digit() && c != '0');
        if negative {
            format!("\u{2212}{body}")
        } else {
            body
        }
    }

    /// A proportion as a percentage with one decimal: `12,3 %` (fi, sv), `12.3%` (en).
    pub fn percent(self, p: f64) -> String {
        if !p.is_finite() {
            return String::new();
        }
        match self {
            Lang::En => format!("{}%", self.number(100.0 * p, 1)),
            _ => format!("{}\u{a0}%", self.number(100.0 * p, 1)),
        }
    }

    /// An interval of proportions: `70,9–74,4 %` (fi, sv), `70.9–74.4%` (en).
    pub fn percent_range(self, lo: f64, hi: f64) -> String {
        if !(lo.is_finite() && hi.is_finite()) {
            return String::new();
        }
        let (a, b) = (self.number(100.0 * lo, 1), self.number(100.0 * hi, 1));
        match self {
            Lang::En => format!("{a}–{b}%"),
            _ => format!("{a}–{b}\u{a0}%"),
        }
    }

    /// A number with its sign (`+1,2`, `−0,8`; zero without one).
    pub fn signed(self, x: f64, decimals: usize) -> String {
        let n = self.number(x, decimals);
        if x > 0.0 && n.chars().any(|c| c.is_ascii_digit() && c != '0') {
            format!("+{n}")
        } else {
            n
        }
    }

    fn points_unit(self) -> &'static str {
        self.pick("prosenttiyksikköä", "procentenheter", "percentage points")
    }

    /// A difference of proportions in percentage points, with its sign.
    pub fn points(self, d: f64) -> String {
        if !d.is_finite() {
            return String::new();
        }
        format!("{}\u{a0}{}", self.signed(100.0 * d, 1), self.points_unit())
    }

    /// An interval of differences of proportions in percentage points.
    pub fn points_range(self, lo: f64, hi: f64) -> String {
        if !(lo.is_finite() && hi.is_finite()) {
            return String::new();
        }
        let (a, b) = (self.signed(100.0 * lo, 1), self.signed(100.0 * hi, 1));
        let joint = self.pick("…", "…", " to ");
        format!("{a}{joint}{b}\u{a0}{}", self.points_unit())
    }

    /// A sheet name.
    pub fn sheet(self, sheet: Sheet) -> &'static str {
        match sheet {
            Sheet::Estimates => self.pick("Estimaatit", "Skattningar", "Estimates"),
            Sheet::Gaps => self.pick("Erot", "Skillnader", "Gaps"),
            Sheet::Compare => self.pick("Vertailu", "Jämförelse", "Comparison"),
            Sheet::CompareSurvey => self.pick(
                "Vertailuaineisto",
                "Jämförelsematerial",
                "Comparison survey",
            ),
            Sheet::Register => self.pick("Rekisteri", "Register", "Register"),
            Sheet::Charts => self.pick("Kuviot", "Diagram", "Charts"),
            Sheet::ChartData => self.pick("Kuvioiden tiedot", "Diagramdata", "Chart data"),
            Sheet::Methods => self.pick("Menetelmät", "Metoder", "Methods"),
            Sheet::Manifest => self.pick("Tiedostot", "Filer", "Manifest"),
        }
    }

    /// The header of a tidy column (the column's own name where no translation is kept).
    pub fn header(self, column: &str) -> String {
        let t = match column {
            "indicator" => self.pick("Indikaattori (tunnus)", "Indikator (id)", "Indicator (id)"),
            "indicator_label" => self.pick("Indikaattori", "Indikator", "Indicator"),
            "stat" => self.pick("Tunnusluku", "Statistika", "Statistic"),
            "variable" => self.pick("Muuttuja", "Variabel", "Variable"),
            "category" => self.pick("Luokka", "Kategori", "Category"),
            "by" => self.pick("Jaottelu", "Indelning", "Breakdown"),
            "group" => self.pick("Ryhmä", "Grupp", "Group"),
            "reference" => self.pick("Vertailuryhmä", "Referensgrupp", "Reference group"),
            "measure" => self.pick("Mittari", "Mått", "Measure"),
            "estimate" => self.pick("Estimaatti", "Skattning", "Estimate"),
            "se" => self.pick("Keskivirhe", "Medelfel", "Standard error"),
            "ci_low" => self.pick(
                "Luottamusväli, alaraja",
                "Konfidensintervall, nedre",
                "CI lower",
            ),
            "ci_high" => self.pick(
                "Luottamusväli, yläraja",
                "Konfidensintervall, övre",
                "CI upper",
            ),
            "df" => self.pick("Vapausasteet", "Frihetsgrader", "df"),
            "df1" => self.pick("Vapausasteet 1", "Frihetsgrader 1", "df1"),
            "df2" => self.pick("Vapausasteet 2", "Frihetsgrader 2", "df2"),
            "cv" => self.pick("Variaatiokerroin", "Variationskoefficient", "CV"),
            "deff" => self.pick("Asetelmavaikutus", "Designeffekt", "Design effect"),
            "n" => "n",
            "n_eff" => self.pick("Efektiivinen n", "Effektivt n", "Effective n"),
            "pop_size" => self.pick(
                "Perusjoukon koko",
                "Populationens storlek",
                "Population size",
            ),
            "flag" => self.pick("Luotettavuus", "Tillförlitlighet", "Reliability"),
            "p_value" => self.pick("p-arvo", "p-värde", "p-value"),
            "p_adjusted" => self.pick(
                "p-arvo (korjattu)",
                "p-värde (justerat)",
                "p-value (adjusted)",
            ),
            "estimate_a" => self.pick("Estimaatti A", "Skattning A", "Estimate A"),
            "se_a" => self.pick("Keskivirhe A", "Medelfel A", "SE A"),
            "n_a" => "n A",
            "estimate_b" => self.pick("Estimaatti B", "Skattning B", "Estimate B"),
            "se_b" => self.pick("Keskivirhe B", "Medelfel B", "SE B"),
            "n_b" => "n B",
            "difference" => self.pick("Ero (A − B)", "Skillnad (A − B)", "Difference (A − B)"),
            "period" => self.pick("Ajanjakso", "Period", "Period"),
            "metric" => self.pick("Rekisterimittari", "Registermått", "Register metric"),
            "metric_kind" => self.pick("Mittarin laji", "Måttets typ", "Metric kind"),
            "metric_unit" => self.pick("Yksikkö", "Enhet", "Unit"),
            "register_value" => self.pick("Rekisteriarvo", "Registervärde", "Register value"),
            "register_low" => self.pick("Rekisteri, alaraja", "Register, nedre", "Register, lower"),
            "register_high" => self.pick("Rekisteri, yläraja", "Register, övre", "Register, upper"),
            "register_base" => self.pick("Rekisteri, perusta", "Register, bas", "Register, base"),
            "register_flag" => self.pick("Rekisteri, tila", "Register, status", "Register, status"),
            "note" => self.pick("Huom.", "Anm.", "Note"),
            other => return other.to_string(),
        };
        t.to_string()
    }

    /// A statistic's name (`quantile:0.5` keeps its probability).
    pub fn stat(self, stat: &str) -> String {
        let t = match stat {
            "proportion" => self.pick("osuus", "andel", "proportion"),
            "mean" => self.pick("keskiarvo", "medelvärde", "mean"),
            "total" => self.pick("summa", "totalsumma", "total"),
            "ratio" => self.pick("suhde", "kvot", "ratio"),
            other => {
                return match other.strip_prefix("quantile:") {
                    Some(p) => format!("{} {p}", self.pick("kvantiili", "kvantil", "quantile")),
                    None => other.to_string(),
                }
            }
        };
        t.to_string()
    }

    /// A reliability flag.
    pub fn flag(self, flag: &str) -> String {
        let t = match flag {
            "ok" => self.pick("ok", "ok", "ok"),
            "low_precision" => self.pick("epätarkka", "osäker", "low precision"),
            "suppressed" => self.pick("salattu", "undertryckt", "suppressed"),
            "missing" => self.pick("puuttuu", "saknas", "missing"),
            other => return other.to_string(),
        };
        t.to_string()
    }

    /// The footnote of `..`: why a value is withheld (the rules of design section 6).
    pub fn suppressed_note(self, min_cell: usize) -> String {
        match self {
            Lang::Fi => format!(".. = arvo salattu: alle {min_cell} vastaajaa, tai osuuden efektiivinen otoskoko alle 30 tai Korn–Graubard-luottamusväli liian leveä (vähintään 0,30 tai suhteessa estimaattiin yli 130 %); keskiarvoilla, summilla, suhteilla ja kvantiileilla alle 30 vastaajaa."),
            Lang::Sv => format!(".. = värdet undertryckt: färre än {min_cell} svarande, eller för en andel ett effektivt urval under 30 eller ett för brett Korn–Graubard-intervall (minst 0,30 eller över 130 % av skattningen); för medelvärden, summor, kvoter och kvantiler färre än 30 svarande."),
            Lang::En => format!(".. = value withheld: fewer than {min_cell} respondents, or for a proportion an effective sample size below 30 or a Korn–Graubard interval too wide (0.30 or wider, or wider than 130 % of the estimate); for means, totals, ratios and quantiles fewer than 30 respondents."),
        }
    }

    /// The footnote of withheld register values (`tasa join --min-base`).
    pub fn register_suppressed_note(self, min_base: f64) -> String {
        let n = crate::table::format_number(min_base);
        match self {
            Lang::Fi => format!(".. (rekisteri) = arvo salattu: alle {n} henkilön lukumäärä, tai osuus tai intensiteetti, joka nojaa sellaiseen tai paljastaisi sen."),
            Lang::Sv => format!(".. (register) = värdet undertryckt: ett antal under {n} personer, eller en andel eller intensitet som vilar på eller skulle röja ett sådant antal."),
            Lang::En => format!(".. (register) = value withheld: a count below {n} persons, or a share or rate that rests on or would reveal such a count."),
        }
    }

    /// The footnote of low-precision values.
    pub fn low_precision_note(self) -> &'static str {
        self.pick(
            "* = epätarkka arvo: asetelman vapausasteet alle 8, tai (muut kuin osuudet) variaatiokerroin yli 30 %; tulkitse varoen.",
            "* = osäkert värde: färre än 8 frihetsgrader i designen, eller (andra än andelar) variationskoefficient över 30 %; tolka med försiktighet.",
            "* = low precision: fewer than 8 design degrees of freedom, or (other than proportions) a coefficient of variation above 30 %; interpret with caution.",
        )
    }
}

/// The sheets of the workbook.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sheet {
    Estimates,
    Gaps,
    Compare,
    /// A comparison survey beside the previous wave's comparison.
    CompareSurvey,
    Register,
    Charts,
    ChartData,
    Methods,
    Manifest,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_language_names_every_sheet_differently() {
        let sheets = [
            Sheet::Estimates,
            Sheet::Gaps,
            Sheet::Compare,
            Sheet::CompareSurvey,
            Sheet::Register,
            Sheet::Charts,
            Sheet::ChartData,
            Sheet::Methods,
            Sheet::Manifest,
        ];
        for lang in [Lang::Fi, Lang::Sv, Lang::En] {
            let names: std::collections::HashSet<&str> =
                sheets.iter().map(|&s| lang.sheet(s)).collect();
            assert_eq!(names.len(), sheets.len(), "{lang:?}");
            // Excel's limit on sheet names.
            assert!(names.iter().all(|n| n.chars().count() <= 31));
        }
        assert_eq!(Lang::Fi.stat("quantile:0.5"), "kvantiili 0.5");
        assert_eq!(Lang::Sv.flag("suppressed"), "undertryckt");
        assert_eq!(Lang::En.header("unknown_col"), "unknown_col");
    }

    #[test]
    fn numbers_follow_each_language() {
        assert_eq!(Lang::Fi.percent(0.123), "12,3\u{a0}%");
        assert_eq!(Lang::Sv.percent(0.1234), "12,3\u{a0}%");
        assert_eq!(Lang::En.percent(0.123), "12.3%");
        assert_eq!(
            Lang::Fi.number(-1234567.891, 2),
            "\u{2212}1\u{202f}234\u{202f}567,89"
        );
        assert_eq!(Lang::En.number(1234.5, 1), "1,234.5");
        assert_eq!(Lang::Fi.number(-0.0004, 2), "0,00");
        assert_eq!(
            Lang::Fi.points(-0.052),
            "\u{2212}5,2\u{a0}prosenttiyksikköä"
        );
        assert_eq!(Lang::En.points(0.012), "+1.2\u{a0}percentage points");
        assert_eq!(Lang::Fi.percent_range(0.709, 0.744), "70,9–74,4\u{a0}%");
        assert_eq!(Lang::En.percent_range(0.709, 0.744), "70.9–74.4%");
        assert_eq!(
            Lang::Sv.points_range(-0.025, 0.025),
            "\u{2212}2,5…+2,5\u{a0}procentenheter"
        );
        assert_eq!(
            Lang::En.points_range(-0.025, 0.025),
            "\u{2212}2.5 to +2.5\u{a0}percentage points"
        );
    }
}
