"""thidua: the REST service of the "Vì an ninh Tổ quốc" emulation movement."""
