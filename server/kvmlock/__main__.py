from kvmlock.cli import main

raise SystemExit(main())
