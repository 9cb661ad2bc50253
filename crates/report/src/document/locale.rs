//! The words and formats a report writes itself, in Italian and English.

use crate::chart::{Locale, format_number};

/// The language of a publication.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Default)]
pub enum Lang {
    #[default]
    It,
    En,
}

impl Lang {
    /// The language of a code (`it`, `en`).
    pub fn from_code(code: &str) -> Option<Lang> {
        match code {
            "it" => Some(Lang::It),
            "en" => Some(Lang::En),
            _ => None,
        }
    }

    /// The code (`it`, `en`), as in `lang` attributes and `Text::get`.
    pub fn code(self) -> &'static str {
        match self {
            Lang::It => "it",
            Lang::En => "en",
        }
    }

    pub fn locale(self) -> Locale {
        match self {
            Lang::It => Locale::It,
            Lang::En => Locale::En,
        }
    }

    /// A fixed phrase in this language.
    pub fn t(self, key: Key) -> &'static str {
        let (it, en) = match key {
            Key::Contents => ("Indice", "Contents"),
            Key::Page => ("Pagina", "Page"),
            Key::Of => ("di", "of"),
            Key::Provenance => ("Provenienza e note metodologiche", "Provenance and methods"),
            Key::Release => ("Rilascio", "Release"),
            Key::ReleasedOn => ("rilasciato il", "released on"),
            Key::By => ("da", "by"),
            Key::Inputs => ("Dati di partenza (snapshot)", "Input data (snapshots)"),
            Key::Table => ("Tabella", "Table"),
            Key::Snapshot => ("Snapshot", "Snapshot"),
            Key::Policy => (
                "Regole di riservatezza applicate",
                "Disclosure rules applied",
            ),
            Key::Output => ("Prospetto", "Output"),
            Key::Method => ("Metodo", "Method"),
            Key::Primary => ("Celle oscurate (primarie)", "Cells suppressed (primary)"),
            Key::Secondary => (
                "Celle oscurate (secondarie)",
                "Cells suppressed (secondary)",
            ),
            Key::Attack => ("Verifica dell'attaccante", "Attacker check"),
            Key::Generated => ("Prodotto con", "Produced with"),
            Key::Template => ("modello", "template"),
            Key::Territory => ("Territorio", "Territory"),
            Key::Value => ("Valore", "Value"),
            Key::Interval => ("Intervallo", "Interval"),
            Key::Note => ("Nota", "Note"),
            Key::Hidden => ("oscurato", "hidden"),
            Key::Rounded => ("arrotondato", "rounded"),
            Key::Perturbed => ("perturbato", "perturbed"),
            Key::Noisy => ("con rumore", "noisy"),
            Key::Risk => ("Rischio sociale", "Social risk"),
            Key::Services => ("Servizi", "Services"),
            Key::Places => ("Posti", "Places"),
            Key::Operators => ("Operatori", "Operators"),
            Key::Organizations => ("Enti", "Organizations"),
            Key::Total => ("Totale", "Total"),
            Key::RegistryCaption => (
                "Servizi attivi, posti e operatori per rischio sociale (registro dei servizi)",
                "Active services, places and operators by social risk (service registry)",
            ),
            Key::HiddenNote => (
                "– = dato oscurato per la tutela della riservatezza",
                "– = value hidden to protect confidentiality",
            ),
            Key::Source => ("Fonte", "Source"),
            Key::Breaches => ("violazioni", "breaches"),
            Key::Frames => ("tabelle di riferimento", "frames"),
            Key::SuppressedCells => ("celle oscurate", "suppressed cells"),
            Key::Threshold => ("soglia minima di frequenza", "minimum frequency"),
            Key::Registry => ("Registro dei servizi", "Service registry"),
        };
        match self {
            Lang::It => it,
            Lang::En => en,
        }
    }

    /// A date `YYYY-MM-DD...` as `23 novembre 2026` / `23 November 2026`; other text as is.
    pub fn date(self, iso: &str) -> String {
        let parse = |r: std::ops::Range<usize>| iso.get(r).and_then(|s| s.parse::<u32>().ok());
        let (Some(y), Some(m), Some(d)) = (parse(0..4), parse(5..7), parse(8..10)) else {
            return iso.to_string();
        };
        if !(1..=12).contains(&m) {
            return iso.to_string();
        }
        let months_it = [
            "gennaio",
            "febbraio",
            "marzo",
            "aprile",
            "maggio",
            "giugno",
            "luglio",
            "agosto",
            "settembre",
            "ottobre",
            "novembre",
            "dicembre",
        ];
        let months_en = [
            "January",
            "February",
            "March",
            "April",
            "May",
            "June",
            "July",
            "August",
            "September",
            "October",
            "November",
            "December",
        ];
        match self {
            Lang::It => format!("{d} {} {y}", months_it[m as usize - 1]),
            Lang::En => format!("{d} {} {y}", months_en[m as usize - 1]),
        }
    }

    /// A number with the language's separators.
    pub fn number(self, value: f64, decimals: usize) -> String {
        format_number(value, decimals, self.locale())
    }

    /// The words for a disclosure flag.
    pub fn flag(self, flag: &str) -> String {
        match flag {
            "" => String::new(),
            "suppressed" => self.t(Key::Hidden).into(),
            "rounded" => self.t(Key::Rounded).into(),
            "perturbed" => self.t(Key::Perturbed).into(),
            "noisy" => self.t(Key::Noisy).into(),
            other => other.into(),
        }
    }
}

/// Fixed phrases.
#[derive(Debug, Clone, Copy)]
pub enum Key {
    Contents,
    Page,
    Of,
    Provenance,
    Release,
    ReleasedOn,
    By,
    Inputs,
    Table,
    Snapshot,
    Policy,
    Output,
    Method,
    Primary,
    Secondary,
    Attack,
    Generated,
    Template,
    Territory,
    Value,
    Interval,
    Note,
    Hidden,
    Rounded,
    Perturbed,
    Noisy,
    Risk,
    Services,
    Places,
    Operators,
    Organizations,
    Total,
    RegistryCaption,
    HiddenNote,
    Source,
    Breaches,
    Frames,
    SuppressedCells,
    Threshold,
    Registry,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_and_numbers_follow_the_language() {
        assert_eq!(Lang::It.date("2026-11-23T10:56:30Z"), "23 novembre 2026");
        assert_eq!(Lang::En.date("2024-01-05"), "5 January 2024");
        assert_eq!(Lang::It.date("2024"), "2024");
        assert_eq!(Lang::It.date("2024-13-01"), "2024-13-01");
        assert_eq!(Lang::It.number(185234.56, 1), "185.234,6");
        assert_eq!(Lang::En.number(185234.56, 1), "185,234.6");
        assert_eq!(Lang::It.flag("suppressed"), "oscurato");
        assert_eq!(Lang::En.flag("rounded"), "rounded");
    }
}
