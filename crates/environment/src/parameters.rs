//! Monitoring parameters: the symbols of TT 10/2021/TT-BTNMT (Annex 15) and of the VN_WQI
//! groups, normalised to one canonical symbol and unit each, so indices and queries see one
//! spelling ("PM2,5", "PM25" and "pm2.5" are all `PM2.5`; CO in mg/Nm³ becomes µg/m³).
//!
//! Unit conversions are only those the standards allow: mass per volume scaled (mg ↔ µg,
//! Nm³ read as m³ as the station files use it), and for the AQI gases ppb/ppm at 25 °C and
//! 1 atm (`µg/m³ = ppb × M / 24.45`; unconfirmed for QĐ 1459, see docs/monitoring.md).
//! Parameters without a canonical unit (flow, colour, …) keep the unit as sent.

/// A known parameter.
#[derive(Debug, Clone, Copy)]
pub struct ParameterDef {
    /// Canonical symbol stored in observations.
    pub symbol: &'static str,
    /// Spellings accepted (compared case-insensitively, ignoring spaces, `,` read as `.`).
    pub aliases: &'static [&'static str],
    /// Canonical unit, or `None` to keep the unit as sent.
    pub unit: Option<&'static str>,
    /// Accepted units (normalised spelling, see [`unit_key`]) and the factor to the canonical unit.
    pub units: &'static [(&'static str, f64)],
    /// Molar mass (g/mol) for ppb/ppm conversion of gases.
    pub molar_mass: Option<f64>,
    /// Whether negative values are valid (temperature).
    pub signed: bool,
}

const AIR: &[(&str, f64)] = &[("ug/m3", 1.0), ("mg/m3", 1000.0)];
const WATER: &[(&str, f64)] = &[("mg/l", 1.0), ("g/m3", 1.0), ("ug/l", 0.001)];
const PESTICIDE: &[(&str, f64)] = &[("ug/l", 1.0), ("mg/l", 1000.0)];
const BACTERIA: &[(&str, f64)] = &[("mpn/100ml", 1.0), ("cfu/100ml", 1.0)];
const NONE: &[(&str, f64)] = &[];

const fn def(
    symbol: &'static str,
    aliases: &'static [&'static str],
    unit: Option<&'static str>,
    units: &'static [(&'static str, f64)],
) -> ParameterDef {
    ParameterDef { symbol, aliases, unit, units, molar_mass: None, signed: false }
}

const fn gas(symbol: &'static str, aliases: &'static [&'static str], molar_mass: f64) -> ParameterDef {
    ParameterDef { symbol, aliases, unit: Some("µg/m³"), units: AIR, molar_mass: Some(molar_mass), signed: false }
}

/// Every known parameter. When two share a spelling (NO2: nitrogen dioxide in air, nitrite
/// nitrogen in water), the unit decides.
pub const PARAMETERS: &[ParameterDef] = &[
    def("PM2.5", &["PM2.5", "PM25", "PM2_5"], Some("µg/m³"), AIR),
    def("PM10", &["PM10"], Some("µg/m³"), AIR),
    gas("O3", &["O3"], 48.00),
    gas("NO2", &["NO2"], 46.01),
    gas("SO2", &["SO2"], 64.07),
    gas("CO", &["CO"], 28.01),
    gas("NO", &["NO"], 30.01),
    gas("H2S", &["H2S"], 34.08),
    gas("NH3", &["NH3"], 17.03),
    def("PM", &["PM", "TSP", "Bui"], Some("µg/m³"), AIR),
    ParameterDef {
        symbol: "Temp",
        aliases: &["Temp", "T", "Nhiet do"],
        unit: Some("°C"),
        units: &[("c", 1.0), ("oc", 1.0), ("degc", 1.0)],
        molar_mass: None,
        signed: true,
    },
    def("RH", &["RH", "Humidity"], Some("%"), &[("%", 1.0)]),
    def("pH", &["pH"], Some("-"), &[("", 1.0), ("-", 1.0), ("ph", 1.0)]),
    def("DO", &["DO", "O2 hoa tan"], Some("mg/L"), WATER),
    def("BOD5", &["BOD5", "BOD"], Some("mg/L"), WATER),
    def("COD", &["COD"], Some("mg/L"), WATER),
    def("TOC", &["TOC"], Some("mg/L"), WATER),
    def("TSS", &["TSS"], Some("mg/L"), WATER),
    def("N-NH4", &["N-NH4", "NH4", "NH4+", "Amoni"], Some("mg/L"), WATER),
    def("N-NO3", &["N-NO3", "NO3", "NO3-", "Nitrat"], Some("mg/L"), WATER),
    def("N-NO2", &["N-NO2", "NO2", "NO2-", "Nitrit"], Some("mg/L"), WATER),
    def("P-PO4", &["P-PO4", "PO4", "PO4 3-", "Phosphat"], Some("mg/L"), WATER),
    def("TN", &["TN"], Some("mg/L"), WATER),
    def("TP", &["TP"], Some("mg/L"), WATER),
    def("Cl", &["Cl", "Cl-"], Some("mg/L"), WATER),
    def("As", &["As"], Some("mg/L"), WATER),
    def("Cd", &["Cd"], Some("mg/L"), WATER),
    def("Pb", &["Pb"], Some("mg/L"), WATER),
    def("Cr6+", &["Cr6+", "Cr(VI)", "Cr6"], Some("mg/L"), WATER),
    def("Cu", &["Cu"], Some("mg/L"), WATER),
    def("Zn", &["Zn"], Some("mg/L"), WATER),
    def("Hg", &["Hg"], Some("mg/L"), WATER),
    def("Aldrin", &["Aldrin"], Some("µg/L"), PESTICIDE),
    def("BHC", &["BHC"], Some("µg/L"), PESTICIDE),
    def("Dieldrin", &["Dieldrin"], Some("µg/L"), PESTICIDE),
    def("DDTs", &["DDTs", "DDT"], Some("µg/L"), PESTICIDE),
    def("Heptachlor", &["Heptachlor", "Heptachlor & Heptachlorepoxide"], Some("µg/L"), PESTICIDE),
    def("Coliform", &["Coliform", "Coliforms", "Tong Coliform"], Some("MPN/100mL"), BACTERIA),
    def("E.coli", &["E.coli", "E. coli", "Ecoli"], Some("MPN/100mL"), BACTERIA),
    def("Flow", &["Flow"], None, NONE),
    def("Color", &["Color", "Colour"], None, NONE),
    def("P", &["P"], None, NONE),
    def("O2", &["O2"], None, NONE),
    def("VHg", &["VHg"], None, NONE),
];

/// A normalised observation value.
#[derive(Debug, Clone, PartialEq)]
pub struct Normalised {
    /// Canonical symbol.
    pub parameter: &'static str,
    /// Value in the canonical unit.
    pub value: f64,
    /// Canonical unit (or the unit as sent, for parameters without one).
    pub unit: Option<String>,
}

/// Which input field a normalisation problem is in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Field {
    /// The parameter symbol.
    Parameter,
    /// The unit.
    Unit,
    /// The value.
    Value,
}

/// The spelling used to compare units: lower case, no spaces, `µ`/`μ` as `u`, `³` as `3`, and
/// normal cubic metres (`Nm3`) as `m3`.
pub fn unit_key(unit: &str) -> String {
    unit.chars()
        .filter(|c| !c.is_whitespace())
        .map(|c| match c {
            'µ' | 'μ' => 'u',
            '³' => '3',
            '°' | 'º' => 'o',
            c => c.to_ascii_lowercase(),
        })
        .collect::<String>()
        .replace("nm3", "m3")
        .replace("m^3", "m3")
}

fn symbol_key(symbol: &str) -> String {
    symbol.chars().filter(|c| !c.is_whitespace()).map(|c| if c == ',' { '.' } else { c.to_ascii_lowercase() }).collect()
}

/// The definitions a spelling may name (usually one).
pub fn lookup(symbol: &str) -> Vec<&'static ParameterDef> {
    let key = symbol_key(symbol);
    PARAMETERS.iter().filter(|d| d.aliases.iter().any(|a| symbol_key(a) == key)).collect()
}

/// Normalises a parameter symbol, value and unit.
///
/// # Errors
/// The field at fault and a sentence: an unknown symbol, a unit that does not fit the
/// parameter, a negative value where only non-negative ones make sense, a non-finite value.
pub fn normalise(symbol: &str, value: f64, unit: Option<&str>) -> Result<Normalised, (Field, String)> {
    let defs = lookup(symbol);
    if defs.is_empty() {
        return Err((Field::Parameter, format!("unknown parameter \"{symbol}\" (not a TT 10/2021 or VN_WQI symbol)")));
    }
    if !value.is_finite() {
        return Err((Field::Value, format!("{value} is not a number")));
    }
    let key = unit.map(unit_key).unwrap_or_default();
    let mut expected = Vec::new();
    for d in &defs {
        let factor = if d.units.is_empty() {
            Some(1.0)
        } else if let Some(&(_, f)) = d.units.iter().find(|(u, _)| *u == key) {
            Some(f)
        } else {
            d.molar_mass.and_then(|m| match key.as_str() {
                "ppb" => Some(m / 24.45),
                "ppm" => Some(m / 24.45 * 1000.0),
                _ => None,
            })
        };
        let Some(factor) = factor else {
            expected.push(format!("{}: {}", d.symbol, d.unit.unwrap_or("any")));
            continue;
        };
        if value < 0.0 && !d.signed {
            return Err((Field::Value, format!("{value} is negative; {} cannot be", d.symbol)));
        }
        if d.symbol == "pH" && value > 14.0 {
            return Err((Field::Value, format!("pH {value} is outside 0–14")));
        }
        let unit = match d.unit {
            Some(u) => Some(u.to_owned()),
            None => unit.map(str::to_owned),
        };
        return Ok(Normalised { parameter: d.symbol, value: value * factor, unit });
    }
    Err((
        Field::Unit,
        format!("unit \"{}\" does not fit \"{symbol}\" (expected {})", unit.unwrap_or_default(), expected.join("; ")),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn symbols_and_units_are_normalised() {
        let n = normalise("PM2,5", 35.2, Some("ug/Nm3")).unwrap();
        assert_eq!((n.parameter, n.value, n.unit.as_deref()), ("PM2.5", 35.2, Some("µg/m³")));
        let n = normalise("CO", 1.2, Some("mg/Nm3")).unwrap();
        assert_eq!((n.parameter, n.value), ("CO", 1200.0));
        // 10 ppb NO2 at 25 °C: 10 × 46.01 / 24.45 = 18.818 µg/m³.
        let n = normalise("NO2", 10.0, Some("ppb")).unwrap();
        assert!((n.value - 18.818).abs() < 1e-3);
        // NO2 in mg/L is nitrite nitrogen (water).
        assert_eq!(normalise("NO2", 0.02, Some("mg/l")).unwrap().parameter, "N-NO2");
        assert_eq!(normalise("NH4", 0.3, Some("mg/L")).unwrap().parameter, "N-NH4");
        assert_eq!(normalise("Temp", -2.0, Some("°C")).unwrap().value, -2.0);
        assert_eq!(normalise("pH", 7.1, Some("")).unwrap().unit.as_deref(), Some("-"));
        assert_eq!(normalise("Flow", 3.0, Some("m3/h")).unwrap().unit.as_deref(), Some("m3/h"));
        assert_eq!(normalise("As", 20.0, Some("µg/L")).unwrap().value, 0.02);
    }

    #[test]
    fn problems_name_the_field() {
        assert!(matches!(normalise("PM1", 1.0, Some("ug/m3")), Err((Field::Parameter, m)) if m.contains("unknown")));
        assert!(matches!(normalise("PM10", 1.0, Some("mg/L")), Err((Field::Unit, m)) if m.contains("µg/m³")));
        assert!(matches!(normalise("PM10", -1.0, Some("ug/m3")), Err((Field::Value, _))));
        assert!(matches!(normalise("pH", 15.0, None), Err((Field::Value, _))));
        assert!(matches!(normalise("PM10", f64::NAN, Some("ug/m3")), Err((Field::Value, _))));
    }
}
