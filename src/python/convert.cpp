#include "python/convert.h"

#include <nanobind/stl/string.h>

#include <climits>

#include "filter/filter_dict.h"
#include "filter/filter_string.h"

namespace omendb::python {
namespace {

const char* exception_name(StatusCode code) {
  switch (code) {
    case StatusCode::kInvalidArgument:
      return "InvalidArgumentError";
    case StatusCode::kDimensionMismatch:
      return "DimensionError";
    case StatusCode::kDuplicateId:
      return "DuplicateIdError";
    case StatusCode::kNotFound:
      return "NotFoundError";
    case StatusCode::kClosed:
      return "ClosedError";
    case StatusCode::kNotSupported:
      return "NotSupportedError";
    case StatusCode::kIoError:
      return "StorageError";
    case StatusCode::kCorruption:
      return "CorruptionError";
    case StatusCode::kLocked:
      return "LockedError";
    case StatusCode::kReadOnly:
      return "ReadOnlyError";
    case StatusCode::kFilterError:
      return "FilterError";
    case StatusCode::kOk:
      break;
  }
  return "Error";
}

std::string python_type_name(nb::handle value) {
  return nb::cast<std::string>(nb::type_name(value.type()));
}

[[noreturn]] void invalid(std::string message) {
  throw StatusError{Status::invalid_argument(std::move(message))};
}

// The UTF-8 bytes of a str; InvalidArgument (naming `where`) when it holds a lone surrogate.
std::string utf8_of(nb::handle str, const std::string& where) {
  Py_ssize_t size = 0;
  const char* utf8 = PyUnicode_AsUTF8AndSize(str.ptr(), &size);
  if (utf8 == nullptr) {
    PyErr_Clear();
    invalid(where + " is not valid Unicode (it holds a lone surrogate)");
  }
  return {utf8, static_cast<std::size_t>(size)};
}

Value to_value(nb::handle value, const std::string& where) {
  if (value.is_none()) return std::monostate{};
  if (nb::isinstance<nb::bool_>(value)) return nb::cast<bool>(value);
  if (nb::isinstance<nb::int_>(value)) {
    int overflow = 0;
    const long long number = PyLong_AsLongLongAndOverflow(value.ptr(), &overflow);
    if (overflow != 0) invalid(where + " is an int outside the signed 64-bit range");
    return static_cast<std::int64_t>(number);
  }
  if (nb::isinstance<nb::float_>(value)) return nb::cast<double>(value);
  if (nb::isinstance<nb::str>(value)) return utf8_of(value, where);
  if (nb::isinstance<nb::list>(value) || nb::isinstance<nb::tuple>(value)) {
    std::vector<std::string> strings;
    std::size_t i = 0;
    for (nb::handle item : value) {
      if (!nb::isinstance<nb::str>(item)) {
        invalid(where + "[" + std::to_string(i) +
                "] must be a str (lists may hold only strings), got " + python_type_name(item));
      }
      strings.push_back(utf8_of(item, where + "[" + std::to_string(i) + "]"));
      ++i;
    }
    return strings;
  }
  invalid(where + " has unsupported type " + python_type_name(value) +
          "; expected None, bool, int, float, str or a list of str");
}

[[noreturn]] void filter_error(std::string message) {
  throw StatusError{Status(StatusCode::kFilterError, std::move(message))};
}

// The JSON-like tree of a Python filter dict; refuses nesting deeper than any valid filter.
DictNode to_dict_node(nb::handle value, int depth) {
  if (depth > kMaxDictNodeDepth) filter_error("filter is nested too deeply");
  if (value.is_none()) return DictNode();
  if (nb::isinstance<nb::bool_>(value)) return DictNode(nb::cast<bool>(value));
  if (nb::isinstance<nb::int_>(value)) {
    int overflow = 0;
    const long long number = PyLong_AsLongLongAndOverflow(value.ptr(), &overflow);
    if (overflow != 0) filter_error("filter holds an int outside the signed 64-bit range");
    return DictNode(static_cast<std::int64_t>(number));
  }
  if (nb::isinstance<nb::float_>(value)) return DictNode(nb::cast<double>(value));
  if (nb::isinstance<nb::str>(value)) return DictNode(utf8_of(value, "a filter string"));
  if (nb::isinstance<nb::list>(value) || nb::isinstance<nb::tuple>(value)) {
    DictNode::List list;
    for (nb::handle item : value) list.push_back(to_dict_node(item, depth + 1));
    return DictNode(std::move(list));
  }
  if (nb::isinstance<nb::dict>(value)) {
    DictNode::Object object;
    for (auto [key, item] : nb::borrow<nb::dict>(value)) {
      if (!nb::isinstance<nb::str>(key)) {
        filter_error("filter keys must be str, got " + python_type_name(key));
      }
      object.emplace_back(utf8_of(key, "a filter key"), to_dict_node(item, depth + 1));
    }
    return DictNode(std::move(object));
  }
  filter_error("filter holds a value of unsupported type " + python_type_name(value) +
               "; expected None, bool, int, float, str, list or dict");
}

}  // namespace

FilterExpr to_filter(nb::handle where) {
  Result<FilterExpr> filter = Status::invalid_argument("unreachable");
  if (nb::isinstance<nb::str>(where)) {
    filter = parse_filter_string(utf8_of(where, "where"));
  } else if (nb::isinstance<nb::dict>(where)) {
    filter = filter_from_dict(to_dict_node(where, 1));
  } else {
    filter_error("where must be a dict or a str, got " + python_type_name(where));
  }
  throw_if_failed(filter.status());
  return std::move(filter).value();
}

void throw_if_failed(const Status& status) {
  if (!status.is_ok()) throw StatusError{status};
}

void register_status_translator() {
  nb::register_exception_translator([](const std::exception_ptr& pointer, void*) {
    try {
      std::rethrow_exception(pointer);
    } catch (const StatusError& error) {
      nb::object errors = nb::module_::import_("omendb._errors");
      nb::object type = errors.attr(exception_name(error.status.code()));
      // The whole message, NUL characters included (PyErr_SetString would stop at the first).
      const std::string& message = error.status.message();
      nb::object text = nb::steal(
          PyUnicode_DecodeUTF8(message.data(), static_cast<Py_ssize_t>(message.size()), "replace"));
      PyErr_SetObject(type.ptr(), text.ptr());
    }
  });
}

std::vector<std::string> to_ids(nb::handle ids) {
  if (nb::isinstance<nb::str>(ids) || !PySequence_Check(ids.ptr())) {
    invalid("ids must be a list of str, got " + python_type_name(ids));
  }
  std::vector<std::string> result;
  result.reserve(nb::len(ids));
  std::size_t i = 0;
  for (nb::handle id : ids) {
    if (!nb::isinstance<nb::str>(id)) {
      invalid("ids[" + std::to_string(i) + "] must be a str, got " + python_type_name(id));
    }
    result.push_back(utf8_of(id, "ids[" + std::to_string(i) + "]"));
    ++i;
  }
  return result;
}

Metadata to_metadata(nb::handle dict, const std::string& where) {
  if (!nb::isinstance<nb::dict>(dict))
    invalid(where + " must be a dict, got " + python_type_name(dict));
  Metadata fields;
  for (auto [key, value] : nb::borrow<nb::dict>(dict)) {
    if (!nb::isinstance<nb::str>(key))
      invalid(where + " has a key of type " + python_type_name(key) + "; keys must be str");
    std::string name = utf8_of(key, where + " key");
    Value converted = to_value(value, where + "['" + name + "']");
    fields.push_back({std::move(name), std::move(converted)});
  }
  return fields;
}

nb::dict to_dict(const Metadata& metadata) {
  nb::dict dict;
  for (const Field& field : metadata) {
    nb::object value = std::visit(
        [](const auto& v) -> nb::object {
          using T = std::decay_t<decltype(v)>;
          if constexpr (std::is_same_v<T, std::monostate>) {
            return nb::none();
          } else if constexpr (std::is_same_v<T, std::vector<std::string>>) {
            nb::list list;
            for (const std::string& s : v) list.append(nb::str(s.data(), s.size()));
            return list;
          } else if constexpr (std::is_same_v<T, std::string>) {
            return nb::str(v.data(), v.size());
          } else {
            return nb::cast(v);
          }
        },
        field.value);
    dict[nb::str(field.key.data(), field.key.size())] = value;
  }
  return dict;
}

std::size_t utf8_length(std::string_view utf8) noexcept {
  std::size_t length = 0;
  for (unsigned char c : utf8) length += (c & 0xC0) != 0x80;  // count every byte but continuations
  return length;
}

void append_utf32(std::string_view utf8, std::size_t width, std::vector<std::uint32_t>& out) {
  std::size_t written = 0;
  for (std::size_t i = 0; i < utf8.size(); ++written) {
    const auto lead = static_cast<unsigned char>(utf8[i]);
    const std::size_t extra = lead < 0x80 ? 0 : lead < 0xE0 ? 1 : lead < 0xF0 ? 2 : 3;
    std::uint32_t code = extra == 0 ? lead : lead & (0x3F >> extra);
    for (std::size_t j = 1; j <= extra; ++j)
      code = (code << 6) | (static_cast<unsigned char>(utf8[i + j]) & 0x3F);
    out.push_back(code);
    i += extra + 1;
  }
  out.insert(out.end(), width - written, 0);
}

void to_documents(nb::handle documents, std::vector<std::string>& texts,
                  std::vector<std::uint8_t>& present) {
  if (documents.is_none()) return;
  if (nb::isinstance<nb::str>(documents) || !PySequence_Check(documents.ptr())) {
    throw StatusError{
        Status::invalid_argument("documents must be None or a list of str, got " +
                                 nb::cast<std::string>(nb::type_name(documents.type())))};
  }
  std::size_t i = 0;
  for (nb::handle item : documents) {
    if (item.is_none()) {
      texts.emplace_back();
      present.push_back(0);
    } else if (nb::isinstance<nb::str>(item)) {
      Py_ssize_t size = 0;
      const char* utf8 = PyUnicode_AsUTF8AndSize(item.ptr(), &size);
      if (utf8 == nullptr) {  // a lone surrogate has no UTF-8 form
        PyErr_Clear();
        throw StatusError{Status::invalid_argument("documents[" + std::to_string(i) +
                                                   "] is not valid Unicode (a lone surrogate)")};
      }
      texts.emplace_back(utf8, static_cast<std::size_t>(size));
      present.push_back(1);
    } else {
      throw StatusError{Status::invalid_argument(
          "documents[" + std::to_string(i) + "] must be a str or None, got " +
          nb::cast<std::string>(nb::type_name(item.type())))};
    }
    ++i;
  }
}

}  // namespace omendb::python
