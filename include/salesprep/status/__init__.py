"""What a data directory and its shared folder hold, for `salesprep status`: the record every
weekly run writes as it goes (`runs`), and the status report read from it, the published weeks,
the org record and the build results (`report`)."""
