"""The worker: submits queued runs, polls late ones, scans Zap watches, delivers forwards and
purges old work; any number may run."""
