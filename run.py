"""Start the product on the embedded default: migrate, seed the demo world, serve on 127.0.0.1:5000."""
import os

from app import create_app
from app.cli import prepare_database
from app.demo import print_demo_accounts
from app.headers import QuietRequestHandler
from app.jobs.backends import recover


def main() -> None:
    app = create_app()
    with app.app_context():
        prepare_database(app.config["DEMO_DATA"])
        if app.config["DEMO_DATA"]:
            print_demo_accounts()
    recover(app)  # embedded default: jobs a previous run left unfinished run again in this process
    host = os.environ.get("HOST", "127.0.0.1")
    port = int(os.environ.get("PORT", "5000"))
    app.run(host=host, port=port, debug=False, request_handler=QuietRequestHandler)


if __name__ == "__main__":
    main()
