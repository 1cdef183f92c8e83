//! Exit codes: one enum, one table in README.md.

/// How a command ended, as the process exit status.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exit {
    /// 0: everything checked was healthy.
    Healthy = 0,
    /// 1: something checked was unhealthy.
    Unhealthy = 1,
    /// 2: oewsprobe could not do its job: bad config or flags, I/O, or no verdict could be reached.
    CouldNotCheck = 2,
}

impl Exit {
    pub fn code(self) -> u8 {
        self as u8
    }
}

impl From<Exit> for std::process::ExitCode {
    fn from(exit: Exit) -> Self {
        std::process::ExitCode::from(exit.code())
    }
}
