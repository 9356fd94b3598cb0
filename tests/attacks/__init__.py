"""The attack catalogue (/work/shared/notes/oauth-attack-catalogue.md §1), one module per group, black-box over HTTP."""
