from sandbox.lexware.cli import main

raise SystemExit(main())
