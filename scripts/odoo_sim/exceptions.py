"""Odoo's exception classes as the simulator raises them, so RPC clients see Odoo's exact error names."""

# Fault codes Odoo uses on /xmlrpc/2 (odoo.service.wsgi_server constants).
RPC_FAULT_CODE_APPLICATION_ERROR = 1
RPC_FAULT_CODE_WARNING = 2
RPC_FAULT_CODE_ACCESS_DENIED = 3
RPC_FAULT_CODE_ACCESS_ERROR = 4


class OdooError(Exception):
    """Base of every error the simulator reports through Odoo's error envelope."""

    name = "odoo.exceptions.UserError"
    fault_code = RPC_FAULT_CODE_WARNING
    show_traceback = True

    def __init__(self, message):
        super().__init__(message)
        self.message = message


class UserError(OdooError):
    """A business rule refused the operation (e.g. confirming an order that is not a quotation)."""


class ValidationError(UserError):
    """A value or constraint is invalid (missing required field, dangling reference)."""

    name = "odoo.exceptions.ValidationError"


class AccessError(UserError):
    """The user lacks the access right for the operation."""

    name = "odoo.exceptions.AccessError"
    fault_code = RPC_FAULT_CODE_ACCESS_ERROR


class MissingError(UserError):
    """A record does not exist (anymore)."""

    name = "odoo.exceptions.MissingError"


class AccessDenied(OdooError):
    """Bad credentials; Odoo hides the traceback for this one."""

    name = "odoo.exceptions.AccessDenied"
    fault_code = RPC_FAULT_CODE_ACCESS_DENIED
    show_traceback = False

    def __init__(self, message="Access Denied"):
        super().__init__(message)


class PythonError(OdooError):
    """A plain Python exception inside Odoo (KeyError, ValueError, AttributeError...)."""

    fault_code = RPC_FAULT_CODE_APPLICATION_ERROR

    def __init__(self, python_name, message):
        super().__init__(message)
        self.name = f"builtins.{python_name}"
