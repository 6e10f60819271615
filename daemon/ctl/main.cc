// dosctl: the admin CLI. Human tables by default, --json for scripts.
// Exit codes: 0 success, 1 a failed command, 2 a usage error.
#include <iostream>

#include "daemon/ctl/ctl.h"

int main(int argc, char** argv) {
  CLI::App app{"dosctl: administer a dos cluster", "dosctl"};
  app.fallthrough();  // --conf and --json may follow the subcommand
  app.require_subcommand(1);
  dos::ctl::Ctl ctl;
  app.add_option("--conf", ctl.conf_path,
                 "client config (default: $DOS_CONF, else /etc/dos/dos.conf)")
      ->type_name("FILE");
  app.add_flag("--json", ctl.json, "print JSON instead of tables");
  app.add_option("--key", ctl.key_path,
                 "act with this secret key FILE instead of the conf's security.key")
      ->type_name("FILE");
  dos::ctl::AddNodeCommands(&app, &ctl);
  dos::ctl::AddFsCommands(&app, &ctl);
  dos::ctl::AddConfigCommands(&app, &ctl);
  dos::ctl::AddNetCommands(&app, &ctl);
  dos::ctl::AddKeyCommands(&app, &ctl);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    int rc = app.exit(e);  // prints help or the error
    return rc == 0 ? 0 : 2;
  }
  return ctl.Run();
}
