"""`--device auto`: the attached phones when there are any, else a simulated phone."""

from fermbench.bench.session import Progress
from fermbench.bench.start import expand_auto


class Messages(Progress):
    def __init__(self):
        self.lines = []

    def message(self, text):
        self.lines.append(text)


def test_auto_takes_the_ready_phones_of_the_adb_server(adb_server, make_sim_phone, monkeypatch):
    monkeypatch.setenv("ANDROID_ADB_SERVER_PORT", str(adb_server.port))
    phone = make_sim_phone()
    progress = Messages()
    assert expand_auto(("auto", "host"), progress) == (phone.serial, "host")
    assert phone.serial in progress.lines[-1]


def test_auto_falls_back_to_the_simulated_phone_and_says_so(adb_server, monkeypatch):
    monkeypatch.setenv("ANDROID_ADB_SERVER_PORT", str(adb_server.port))  # a server with no phone
    progress = Messages()
    assert expand_auto(("auto",), progress) == ("sim",)
    assert "no phone attached" in progress.lines[-1]


def test_auto_ignores_an_unauthorized_phone(adb_server, make_sim_phone, monkeypatch):
    from fermbench.sim.state import Faults

    monkeypatch.setenv("ANDROID_ADB_SERVER_PORT", str(adb_server.port))
    make_sim_phone(faults=Faults(unauthorized=True), states=("unauthorized",))
    assert expand_auto(("auto",), Messages()) == ("sim",)


def test_specs_without_auto_are_left_alone():
    assert expand_auto(("host", "sim"), Messages()) == ("host", "sim")
