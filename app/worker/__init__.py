"""The worker: submits queued runs, polls late ones, delivers forwards; any number may run."""
