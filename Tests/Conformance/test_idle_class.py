"""The embedded store's metering writes: on a thread in Linux's idle scheduling class where the process may lift
that thread out of it again (CAP_SYS_NICE), else at normal priority on the main connection. Either way every
call is metered."""
import sqlite3
import tempfile

import pytest
from openai import OpenAI

from conftest import Gateway

FALLBACK = "metering writes stay on the main connection"
CAP_SYS_NICE = 23


def has_cap_sys_nice():
    with open("/proc/self/status") as status:
        caps = next(line for line in status if line.startswith("CapEff:"))
    return bool(int(caps.split()[1], 16) >> CAP_SYS_NICE & 1)


@pytest.mark.parametrize("drop_cap_sys_nice", [False, True], ids=["with CAP_SYS_NICE", "without CAP_SYS_NICE"])
def test_every_call_is_metered_with_or_without_the_idle_class(drop_cap_sys_nice):
    wrapper = ["setpriv", "--inh-caps=-sys_nice", "--bounding-set=-sys_nice"] if drop_cap_sys_nice else []
    with tempfile.TemporaryDirectory() as workdir:
        g = Gateway(workdir, env={"LOG_LEVEL": "debug"}, wrapper=wrapper).start()
        try:
            g.key = g.read_default_key()
            client = OpenAI(base_url=g.base_url, api_key=g.key, max_retries=0)
            for i in range(20):
                client.chat.completions.create(model="stub/echo", messages=[{"role": "user", "content": f"call {i}"}])
            assert g.stop() == 0
        finally:
            if g.proc.poll() is None:
                g.proc.kill()
                g.proc.wait(timeout=10)
        with open(g.log_path) as log:
            fell_back = FALLBACK in log.read()
        assert fell_back == (drop_cap_sys_nice or not has_cap_sys_nice())
        con = sqlite3.connect(g.db)
        metered = con.execute("SELECT count(*) FROM usage").fetchone()
        con.close()
        assert metered[0] == 20
